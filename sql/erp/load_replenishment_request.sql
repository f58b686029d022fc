-- Immutable facts keyed by business identity: a replay inserts nothing.
insert into erp.replenishment_request (
    request_key, usage_key, supplier_id, erp_item_id, vendor_item_number, gtin, lot, serial, quantity, unit_price, case_id, used_on, source_sha256, business_date)
select s.request_key, s.usage_key, s.supplier_id, s.erp_item_id, s.vendor_item_number, s.gtin, s.lot, s.serial, s.quantity, s.unit_price, s.case_id, s.used_on, s.source_sha256, s.business_date
from stage_replenishment_request as s
where true
on conflict (request_key) do nothing
