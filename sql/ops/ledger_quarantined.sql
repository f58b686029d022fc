select l.sha256, l.source, l.original_name, l.business_date, l.reason, l.detail, l.release_count, l.updated_at
from ops.ingestion_ledger as l
where l.state = 'quarantined' and (:business_date is null or l.business_date = :business_date)
order by l.business_date, l.source, l.original_name
