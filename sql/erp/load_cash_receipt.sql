-- Move staged receipts into the interface table; an existing business key is left as posted.
insert into erp.cash_receipt (
    receipt_key, payer_id, payer_name, trace_number, payment_date, amount, payment_method,
    handling_code, credit_debit_flag, source_sha256, transaction_control, business_date)
select s.receipt_key, s.payer_id, s.payer_name, s.trace_number, s.payment_date, s.amount, s.payment_method,
       s.handling_code, s.credit_debit_flag, s.source_sha256, s.transaction_control, s.business_date
from stage_cash_receipt as s
where true
on conflict (receipt_key) do nothing
