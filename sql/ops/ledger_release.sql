update ops.ingestion_ledger
set state = 'landed', reason = null, detail = null, release_count = release_count + 1, updated_at = :now
where sha256 = :sha256 and state = 'quarantined'
