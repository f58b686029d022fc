-- Posted totals of the receipts of one source file: what the ERP holds, to tie back to BPR02.
select r.receipt_key, r.amount,
       (select coalesce(sum(j.debit), 0) from erp.journal_line as j where j.journal_key = r.receipt_key) as debits,
       (select coalesce(sum(j.credit), 0) from erp.journal_line as j where j.journal_key = r.receipt_key) as credits
from erp.cash_receipt as r
where r.source_sha256 = :source_sha256
