-- Inbound entries refused on one business day.
select r.source, r.original_name, r.reason, r.detail, r.at from ops.ledger_refusal as r
where r.business_date = :business_date
order by r.source, r.original_name
