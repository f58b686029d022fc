insert into erp.receipt_application (
    application_key, receipt_key, level, claim_payment_key, service_line_key, patient_control_number,
    payer_claim_control_number, claim_status_code, is_reversal, charge_amount, applied_amount,
    patient_responsibility_amount, business_date)
select s.application_key, s.receipt_key, s.level, s.claim_payment_key, s.service_line_key, s.patient_control_number,
       s.payer_claim_control_number, s.claim_status_code, s.is_reversal, s.charge_amount, s.applied_amount,
       s.patient_responsibility_amount, s.business_date
from stage_receipt_application as s
where true
on conflict (application_key) do nothing
