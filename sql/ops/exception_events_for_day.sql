-- What the reconciliation did to exception items on one business day: opened, reopened, changed, closed (counts).
select e.event, count(*) as items from ops.exception_event as e
where e.business_date = :business_date and e.actor = 'reconciliation' group by e.event
