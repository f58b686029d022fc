-- Inquiries are facts of what was sent: insert once, never changed by a replay.
insert into erp.claim_inquiry (
    inquiry_key, claim_key, payer_id, patient_control_number, payer_claim_control_number, billed_amount,
    interchange_receiver_id, interchange_control_number, group_control_number, transaction_control_number,
    file_sha256, business_date)
select s.inquiry_key, s.claim_key, s.payer_id, s.patient_control_number, s.payer_claim_control_number,
       s.billed_amount, s.interchange_receiver_id, s.interchange_control_number, s.group_control_number,
       s.transaction_control_number, s.file_sha256, s.business_date
from stage_claim_inquiry as s
where true
on conflict (inquiry_key) do nothing
