-- 999 answers as received: insert once; a re-sent 999 (new ISA13) adds rows, the latest wins in the status query.
insert into erp.claim_inquiry_ack (
    acknowledgement_key, interchange_sender_id, interchange_control_number, acknowledged_group_control,
    acknowledged_set_id, acknowledged_set_control, set_status, syntax_error_codes, error_segments, group_status,
    source_sha256, business_date)
select s.acknowledgement_key, s.interchange_sender_id, s.interchange_control_number, s.acknowledged_group_control,
       s.acknowledged_set_id, s.acknowledged_set_control, s.set_status, s.syntax_error_codes, s.error_segments,
       s.group_status, s.source_sha256, s.business_date
from stage_claim_inquiry_ack as s
where true
on conflict (acknowledgement_key) do nothing
