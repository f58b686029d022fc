-- A newer snapshot replaces a claim's row; replaying a snapshot (same as-of date) changes nothing.
insert into erp.ar_open_item (
    claim_key, payer_id, patient_control_number, payer_claim_control_number, billed_amount, service_date_from,
    service_date_to, submitted_date, member_token, as_of_date, source_sha256, source_line)
select s.claim_key, s.payer_id, s.patient_control_number, s.payer_claim_control_number, s.billed_amount,
       s.service_date_from, s.service_date_to, s.submitted_date, s.member_token, s.as_of_date, s.source_sha256,
       s.source_line
from stage_ar_open_item as s
where true
on conflict (claim_key) do update set
    payer_claim_control_number = excluded.payer_claim_control_number, billed_amount = excluded.billed_amount,
    service_date_from = excluded.service_date_from, service_date_to = excluded.service_date_to,
    submitted_date = excluded.submitted_date, member_token = excluded.member_token,
    as_of_date = excluded.as_of_date, source_sha256 = excluded.source_sha256, source_line = excluded.source_line
where excluded.as_of_date > erp.ar_open_item.as_of_date
