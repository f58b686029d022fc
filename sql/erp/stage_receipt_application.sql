-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_receipt_application as select * from erp.receipt_application where 1 = 0;
delete from stage_receipt_application
