-- Index syntax differs: PostgreSQL qualifies the table, SQLite the index name.
create index if not exists receipt_application_receipt on erp.receipt_application (receipt_key);
create index if not exists journal_line_journal on erp.journal_line (journal_key);
