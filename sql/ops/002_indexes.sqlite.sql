-- Index syntax differs: PostgreSQL qualifies the table, SQLite the index name.
create index if not exists ops.ingestion_ledger_day on ingestion_ledger (business_date, source);
