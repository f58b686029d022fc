-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_ar_open_item as select * from erp.ar_open_item where 1 = 0;
delete from stage_ar_open_item
