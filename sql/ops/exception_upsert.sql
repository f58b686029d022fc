-- The reconciliation's view of an item. A person's decisions (owner team once reassigned, assignee,
-- resolution) are theirs: only the status the run decided, the amount, detail and dates are written here.
insert into ops.exception_item (item_key, category, reference, owner_team, source, amount_at_stake, detail, status,
                                first_seen, last_seen, closed_on, payer_id)
values (:item_key, :category, :reference, :owner_team, :source, :amount_at_stake, :detail, :status, :first_seen,
        :last_seen, :closed_on, :payer_id)
on conflict (item_key) do update set
    amount_at_stake = excluded.amount_at_stake, detail = excluded.detail, status = excluded.status,
    last_seen = excluded.last_seen, closed_on = excluded.closed_on,
    payer_id = coalesce(excluded.payer_id, exception_item.payer_id)
