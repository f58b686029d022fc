insert into ops.exception_item (item_key, category, reference, owner_team, source, amount_at_stake, detail, status,
                                first_seen, last_seen, closed_on)
values (:item_key, :category, :reference, :owner_team, :source, :amount_at_stake, :detail, :status, :first_seen,
        :last_seen, :closed_on)
on conflict (item_key) do update set
    owner_team = excluded.owner_team, amount_at_stake = excluded.amount_at_stake, detail = excluded.detail,
    status = excluded.status, last_seen = excluded.last_seen, closed_on = excluded.closed_on
