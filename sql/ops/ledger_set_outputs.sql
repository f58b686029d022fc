update ops.ingestion_ledger
set partition_key = :partition_key, outputs = :outputs, updated_at = :now
where sha256 = :sha256
