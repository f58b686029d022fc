-- Work queue evidence: the implant usage issued in the ERP for one serial or lot.
select transaction_key, erp_item_id, transaction_type, quantity, unit_cost, cost_center, case_id, lot, serial,
       consignment, transaction_date, source_sha256, business_date
from erp.inventory_transaction
where serial = :reference or lot = :reference
order by transaction_date, transaction_key
