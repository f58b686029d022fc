insert into ops.ledger_event (sha256, seq, state, reason, dag_run_id, at)
select :sha256, coalesce(max(e.seq), 0) + 1, :state, :reason, :dag_run_id, :now
from ops.ledger_event as e
where e.sha256 = :sha256
