select l.sha256, l.source, l.original_name, l.size_bytes, l.state, l.reason, l.detail, l.row_counts,
       l.control_totals, l.report_path, l.ack_path, l.release_count, l.landed_at, l.updated_at
from ops.ingestion_ledger as l
where l.business_date = :business_date
order by l.source, l.original_name
