-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_inventory_transaction as select * from erp.inventory_transaction where 1 = 0;
delete from stage_inventory_transaction
