-- Payments (payer, TRN02 trace) posted as more than one cash receipt: 0 when every payment is posted once.
select count(*) - count(distinct cr.payer_id || '|' || cr.trace_number) as posted_twice
from erp.cash_receipt as cr
