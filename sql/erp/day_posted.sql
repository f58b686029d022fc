-- Totals posted for one business day: receipts, their amount, and the journal sides.
select
    (select count(*) from erp.cash_receipt as r where r.business_date = :business_date) as receipts,
    (select sum(r.amount) from erp.cash_receipt as r where r.business_date = :business_date) as amount,
    (select sum(j.debit) from erp.journal_line as j where j.business_date = :business_date) as debits,
    (select sum(j.credit) from erp.journal_line as j where j.business_date = :business_date) as credits
