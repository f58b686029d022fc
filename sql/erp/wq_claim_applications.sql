-- Work queue evidence: the ERP claim-level applications of one claim (patient control number), with the receipt.
select ra.application_key, ra.receipt_key, cr.payer_id, cr.trace_number, ra.payer_claim_control_number,
       ra.claim_status_code, ra.is_reversal, ra.charge_amount, ra.applied_amount, ra.business_date, cr.source_sha256
from erp.receipt_application as ra
join erp.cash_receipt as cr on cr.receipt_key = ra.receipt_key
where ra.level = 'claim' and ra.patient_control_number = :reference
order by ra.business_date, ra.application_key
