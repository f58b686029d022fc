insert into ops.exception_event (item_key, business_date, event, amount_at_stake)
values (:item_key, :business_date, :event, :amount_at_stake)
on conflict (item_key, business_date, event) do nothing
