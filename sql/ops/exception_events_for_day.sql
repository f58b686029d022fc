-- What happened to exception items on one business day: opened, reopened, changed, closed (counts).
select e.event, count(*) as items from ops.exception_event as e
where e.business_date = :business_date group by e.event
