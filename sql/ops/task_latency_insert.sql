insert into ops.task_latency (ti_key, dag_id, task_id, run_id, map_index, try_number, business_date, state, started_at,
                              ended_at, seconds, threshold_seconds, breached)
values (:ti_key, :dag_id, :task_id, :run_id, :map_index, :try_number, :business_date, :state, :started_at, :ended_at,
        :seconds, :threshold_seconds, :breached)
on conflict (ti_key) do nothing
