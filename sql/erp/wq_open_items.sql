-- Work queue evidence: the billing system's open A/R rows of one claim (patient control number).
select payer_id, payer_claim_control_number, billed_amount, submitted_date, as_of_date, source_sha256
from erp.ar_open_item
where patient_control_number = :reference
order by as_of_date
