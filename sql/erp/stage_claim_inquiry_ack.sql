-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_claim_inquiry_ack as select * from erp.claim_inquiry_ack where 1 = 0;
delete from stage_claim_inquiry_ack
