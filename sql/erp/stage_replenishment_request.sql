-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_replenishment_request as select * from erp.replenishment_request where 1 = 0;
delete from stage_replenishment_request
