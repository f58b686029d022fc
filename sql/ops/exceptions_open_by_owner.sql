-- Open exception items by owner team, as the latest reconciliation left them.
select owner_team, count(*) as items, sum(amount_at_stake) as amount from ops.exception_item
where status = 'open' group by owner_team order by owner_team
