-- Index syntax differs: PostgreSQL qualifies the table, SQLite the index name.
create index if not exists ingestion_ledger_day on ops.ingestion_ledger (business_date, source);
