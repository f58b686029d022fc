select l.* from ops.ingestion_ledger as l where l.sha256 = :sha256
