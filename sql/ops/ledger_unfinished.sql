-- Files of a source that still have work to do: landed (new or released) or stopped mid-way.
select l.sha256 from ops.ingestion_ledger as l
where l.source = :source and l.state in ('landed', 'parsed', 'validated', 'published')
order by l.landed_at, l.sha256
