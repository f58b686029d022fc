-- The latest open A/R snapshot on or before the day.
select payer_id, patient_control_number, payer_claim_control_number, billed_amount, submitted_date
from erp.ar_open_item
where as_of_date = (select max(as_of_date) from erp.ar_open_item where as_of_date <= :business_date)
