-- The exception queue becomes a work queue: people assign, comment, resolve, reopen and reassign items, so
-- ops.exception_event turns into an append-only log of every change with who and when (its old key allowed
-- one event of a kind per item and day), and items carry their assignee, resolution and payer.
alter table ops.exception_event rename to exception_event_v1;

-- Grain: one change to one exception item: the reconciliation's (actor 'reconciliation': opened, changed,
-- closed, reopened, still_found) or a person's (assigned, commented, resolved, reopened, reassigned).
create table ops.exception_event (
    event_id         integer       primary key autoincrement,
    item_key         varchar(32)   not null,
    business_date    date          not null,
    event            varchar(16)   not null,
    actor            varchar(80)   not null,
    event_at         timestamp     not null,
    amount_at_stake  numeric(18,2),
    assignee         varchar(80),
    owner_team       varchar(40),
    resolution_code  varchar(40),
    note             varchar(1000)
);

insert into ops.exception_event (item_key, business_date, event, actor, event_at, amount_at_stake)
select item_key, business_date, event, 'reconciliation', business_date, amount_at_stake
from ops.exception_event_v1 as v1
order by v1.business_date, v1.item_key,
    case v1.event when 'opened' then 0 when 'reopened' then 1 when 'changed' then 2 else 3 end;

drop table ops.exception_event_v1;

-- The reconciliation writes one event of a kind per item and business day: a replay adds none.
create unique index if not exists ops.exception_event_run on exception_event (item_key, business_date, event)
    where actor = 'reconciliation';
create index if not exists ops.exception_event_item on exception_event (item_key, event_id);
create index if not exists ops.exception_event_day on exception_event (business_date, actor);

alter table ops.exception_item add column assignee varchar(80);
alter table ops.exception_item add column resolution_code varchar(40);
alter table ops.exception_item add column resolved_by varchar(80);
alter table ops.exception_item add column resolved_on date;
alter table ops.exception_item add column payer_id varchar(80);
