-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_invoice_match as select * from erp.invoice_match where 1 = 0;
delete from stage_invoice_match
