select l.sha256 from ops.ingestion_ledger as l where l.business_date = :business_date and l.state = 'posted'
