-- Work queue evidence: every 277 status event of one claim (patient control number).
select payer_id, payer_claim_control_number, level, category_code, status_code, status_date, charge_amount,
       payment_amount, source_sha256, business_date
from erp.claim_status_history
where patient_control_number = :reference
order by status_date, claim_status_event_key
