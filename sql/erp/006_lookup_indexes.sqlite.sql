-- Lookups by claim identity (inquiry selection, claim status joins, reconciliation).
create index if not exists erp.receipt_application_pcn on receipt_application (patient_control_number);
create index if not exists erp.receipt_application_icn on receipt_application (payer_claim_control_number);
create index if not exists erp.claim_inquiry_claim on claim_inquiry (claim_key, business_date);
create index if not exists erp.ar_open_item_as_of on ar_open_item (as_of_date)
