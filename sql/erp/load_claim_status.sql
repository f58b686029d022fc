-- Latest status per claim: a newer status (date, then event key) replaces the stored one; replays change nothing.
insert into erp.claim_status (
    claim_key, payer_id, patient_control_number, payer_claim_control_number, category_code, status_code,
    category_description, status_description, is_final, status_date, charge_amount, payment_amount, check_number,
    last_event_key, source_sha256, business_date)
select s.claim_key, s.payer_id, s.patient_control_number, s.payer_claim_control_number, s.category_code, s.status_code,
       s.category_description, s.status_description, s.is_final, s.status_date, s.charge_amount, s.payment_amount,
       s.check_number, s.last_event_key, s.source_sha256, s.business_date
from stage_claim_status as s
where true
on conflict (claim_key) do update set
    payer_claim_control_number = coalesce(excluded.payer_claim_control_number, erp.claim_status.payer_claim_control_number),
    category_code = excluded.category_code, status_code = excluded.status_code,
    category_description = excluded.category_description, status_description = excluded.status_description,
    is_final = excluded.is_final, status_date = excluded.status_date, charge_amount = excluded.charge_amount,
    payment_amount = excluded.payment_amount, check_number = excluded.check_number,
    last_event_key = excluded.last_event_key, source_sha256 = excluded.source_sha256,
    business_date = excluded.business_date
where excluded.status_date > erp.claim_status.status_date
   or (excluded.status_date = erp.claim_status.status_date and excluded.last_event_key > erp.claim_status.last_event_key)
