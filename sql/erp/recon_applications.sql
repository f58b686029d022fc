-- Claim-level receipt applications up to a day, with the payer of their receipt.
select ra.claim_payment_key, cr.payer_id, ra.patient_control_number, ra.payer_claim_control_number,
       ra.applied_amount
from erp.receipt_application as ra
join erp.cash_receipt as cr on cr.receipt_key = ra.receipt_key
where ra.level = 'claim' and ra.business_date <= :business_date
