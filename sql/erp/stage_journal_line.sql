-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_journal_line as select * from erp.journal_line where 1 = 0;
delete from stage_journal_line
