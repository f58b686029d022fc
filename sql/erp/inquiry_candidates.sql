-- Claims to ask the payer about on a business day: in the latest open A/R snapshot, billed at least
-- N days ago, with no 835 claim payment applied (by CLP07 = payer claim number, else CLP01 = patient
-- control number), no final or rejected 277 status, and not asked within the re-inquiry interval.
select o.claim_key, o.payer_id, o.patient_control_number, o.payer_claim_control_number, o.billed_amount,
       o.service_date_from, o.service_date_to, o.submitted_date, o.source_sha256
from erp.ar_open_item as o
where o.as_of_date = (select max(as_of_date) from erp.ar_open_item where as_of_date <= :business_date)
  and o.submitted_date <= :submitted_before
  -- Two NOT EXISTS rather than one with OR: each can use its index (an OR join scans every application).
  and not exists (
        select 1 from erp.receipt_application as ra
        join erp.cash_receipt as cr on cr.receipt_key = ra.receipt_key
        where ra.patient_control_number = o.patient_control_number
          and ra.level = 'claim' and cr.payer_id = o.payer_id and ra.is_reversal = false)
  and not exists (
        select 1 from erp.receipt_application as ra
        join erp.cash_receipt as cr on cr.receipt_key = ra.receipt_key
        where o.payer_claim_control_number is not null
          and ra.payer_claim_control_number = o.payer_claim_control_number
          and ra.level = 'claim' and cr.payer_id = o.payer_id and ra.is_reversal = false)
  and not exists (
        select 1 from erp.claim_status as cs
        where cs.claim_key = o.claim_key
          and (cs.is_final = true or cs.category_code in ('A3', 'A6', 'A7', 'A8')))
  and not exists (
        select 1 from erp.claim_inquiry as q
        where q.claim_key = o.claim_key and q.business_date > :asked_after and q.business_date <> :business_date)
order by o.payer_id, o.patient_control_number
