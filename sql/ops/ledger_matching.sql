-- Files whose sha256 starts with a hex prefix (at most two: one means the prefix names a file).
select sha256, original_name, state, business_date
from ops.ingestion_ledger
where sha256 like :prefix || '%'
order by sha256
limit 2
