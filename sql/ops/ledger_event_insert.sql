insert into ops.ledger_event (sha256, seq, state, reason, dag_run_id, at)
select cast(:sha256 as varchar(64)), coalesce(max(e.seq), 0) + 1, cast(:state as varchar(20)),
       cast(:reason as varchar(60)), cast(:dag_run_id as varchar(250)), :now
from ops.ledger_event as e
where e.sha256 = cast(:sha256 as varchar(64))
