insert into erp.claim_status_history (
    claim_status_event_key, claim_key, level, line_seq, procedure_code, payer_id, patient_control_number,
    payer_claim_control_number, category_code, status_code, entity_code, category_description, status_description,
    status_date, charge_amount, payment_amount, check_number, source_sha256, business_date)
select s.claim_status_event_key, s.claim_key, s.level, s.line_seq, s.procedure_code, s.payer_id, s.patient_control_number,
       s.payer_claim_control_number, s.category_code, s.status_code, s.entity_code, s.category_description,
       s.status_description, s.status_date, s.charge_amount, s.payment_amount, s.check_number, s.source_sha256,
       s.business_date
from stage_claim_status_history as s
where true
on conflict (claim_status_event_key) do nothing
