-- Files of a day with their landing time and the time they were quarantined, if they were.
select l.sha256, l.source, l.state, l.reason, l.control_totals, l.landed_at,
       (select min(e.at) from ops.ledger_event as e where e.sha256 = l.sha256 and e.state = 'quarantined')
           as quarantined_at,
       (select min(e.at) from ops.ledger_event as e where e.sha256 = l.sha256 and e.state = 'posted') as posted_at
from ops.ingestion_ledger as l where l.business_date = :business_date
