-- Business latency per file: landed -> its last state change (posted or quarantined).
select l.sha256, l.source, l.original_name, l.state, l.reason, l.landed_at,
       (select max(e.at) from ops.ledger_event as e where e.sha256 = l.sha256
         and e.state in ('posted', 'quarantined')) as finished_at
from ops.ingestion_ledger as l
where l.business_date = :business_date
order by l.source, l.original_name
