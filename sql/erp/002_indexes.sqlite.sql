-- Index syntax differs: PostgreSQL qualifies the table, SQLite the index name.
create index if not exists erp.receipt_application_receipt on receipt_application (receipt_key);
create index if not exists erp.journal_line_journal on journal_line (journal_key);
