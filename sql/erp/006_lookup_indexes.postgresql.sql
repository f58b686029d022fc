-- Lookups by claim identity (inquiry selection, claim status joins, reconciliation).
create index if not exists receipt_application_pcn on erp.receipt_application (patient_control_number);
create index if not exists receipt_application_icn on erp.receipt_application (payer_claim_control_number);
create index if not exists claim_inquiry_claim on erp.claim_inquiry (claim_key, business_date);
create index if not exists ar_open_item_as_of on erp.ar_open_item (as_of_date)
