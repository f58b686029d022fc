-- Work queue: a person's action on an item (append-only).
insert into ops.exception_event (item_key, business_date, event, actor, event_at, amount_at_stake, assignee, owner_team,
                                 resolution_code, note)
values (:item_key, :business_date, :event, :actor, :event_at, :amount_at_stake, :assignee, :owner_team,
        :resolution_code, :note)
