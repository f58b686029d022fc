-- Record a refused inbound entry once per source, name, day and reason.
insert into ops.ledger_refusal (source, original_name, business_date, reason, detail, dag_run_id, at)
values (:source, :original_name, :business_date, :reason, :detail, :dag_run_id, :now)
on conflict (source, original_name, business_date, reason) do nothing
