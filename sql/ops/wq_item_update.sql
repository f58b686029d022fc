-- Work queue: the item's current state after a person's action (its history is in ops.exception_event).
update ops.exception_item
set status = :status, assignee = :assignee, owner_team = :owner_team, resolution_code = :resolution_code,
    resolved_by = :resolved_by, resolved_on = :resolved_on
where item_key = :item_key
