-- Work queue evidence: the ERP cash receipts of one payment (payer + trace).
select receipt_key, payer_id, payer_name, trace_number, payment_date, amount, credit_debit_flag, transaction_control,
       source_sha256, business_date
from erp.cash_receipt
where payer_id = :payer_id and trace_number = :trace_number
order by business_date, receipt_key
