select payer_id, patient_control_number, payer_claim_control_number, category_code, status_code, charge_amount,
    payment_amount
from erp.claim_status where business_date <= :business_date
