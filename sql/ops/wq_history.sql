-- Work queue: an item's history, oldest first (the reconciliation's events and people's actions).
select event_id, item_key, business_date, event, actor, event_at, amount_at_stake, assignee, owner_team,
       resolution_code, note
from ops.exception_event
where item_key = :item_key
order by event_id
