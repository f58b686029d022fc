-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_cash_receipt as select * from erp.cash_receipt where 1 = 0;
delete from stage_cash_receipt
