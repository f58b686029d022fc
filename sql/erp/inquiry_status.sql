-- Each 276 inquiry with the payer's 999 answer to its transaction set, if any (latest answer wins).
select q.inquiry_key, q.payer_id, q.patient_control_number, q.business_date, q.interchange_control_number,
       q.group_control_number, q.transaction_control_number,
       (select a.set_status from erp.claim_inquiry_ack as a
         where a.interchange_sender_id = q.interchange_receiver_id
           and a.acknowledged_group_control = q.group_control_number
           and a.acknowledged_set_id = '276'
           and a.acknowledged_set_control = q.transaction_control_number
         order by a.business_date desc, a.interchange_control_number desc
         limit 1) as ack_status
from erp.claim_inquiry as q
where q.business_date = :business_date
order by q.payer_id, q.patient_control_number
