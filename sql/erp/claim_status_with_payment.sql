-- Claims with their latest payer status and the 835 payments applied to them:
-- REF*1K (payer claim control number) = CLP07, else TRN02 (patient control number) = CLP01.
select cs.claim_key, cs.patient_control_number, cs.payer_claim_control_number, cs.category_code, cs.status_code,
       cs.is_final, cs.status_date,
       count(ra.application_key) as payments, coalesce(sum(ra.applied_amount), 0) as paid_amount
from erp.claim_status as cs
left join erp.receipt_application as ra
    on ra.level = 'claim'
   and (ra.payer_claim_control_number = cs.payer_claim_control_number
        or (cs.payer_claim_control_number is null and ra.patient_control_number = cs.patient_control_number))
group by cs.claim_key, cs.patient_control_number, cs.payer_claim_control_number, cs.category_code, cs.status_code,
         cs.is_final, cs.status_date
order by cs.patient_control_number
