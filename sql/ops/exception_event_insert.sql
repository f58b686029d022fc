-- The reconciliation's event on an item: once per item, business day and kind (a partial unique index), so a
-- replay adds nothing.
insert into ops.exception_event (item_key, business_date, event, actor, event_at, amount_at_stake, note)
values (:item_key, :business_date, :event, 'reconciliation', :event_at, :amount_at_stake, :note)
on conflict (item_key, business_date, event) where actor = 'reconciliation' do nothing
