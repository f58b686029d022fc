-- Per-transaction staging tables shaped like their targets (temp: private to the loading connection).
create temp table if not exists stage_cash_receipt as select * from erp.cash_receipt where 1 = 0;
create temp table if not exists stage_receipt_application as select * from erp.receipt_application where 1 = 0;
create temp table if not exists stage_journal_line as select * from erp.journal_line where 1 = 0;
delete from stage_cash_receipt;
delete from stage_receipt_application;
delete from stage_journal_line
