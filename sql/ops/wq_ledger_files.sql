-- Work queue evidence: ledger entries by sha256 (files behind ERP rows).
select sha256, source, original_name, state, reason, business_date, report_path
from ops.ingestion_ledger
where sha256 in :shas
order by business_date, source, original_name
