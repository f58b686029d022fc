-- Immutable facts keyed by business identity: a replay inserts nothing.
insert into erp.inventory_transaction (
    transaction_key, erp_item_id, transaction_type, quantity, unit_of_measure, unit_cost, cost_center, case_id, encounter_token, lot, serial, consignment, transaction_date, source_sha256, business_date)
select s.transaction_key, s.erp_item_id, s.transaction_type, s.quantity, s.unit_of_measure, s.unit_cost, s.cost_center, s.case_id, s.encounter_token, s.lot, s.serial, s.consignment, s.transaction_date, s.source_sha256, s.business_date
from stage_inventory_transaction as s
where true
on conflict (transaction_key) do nothing
