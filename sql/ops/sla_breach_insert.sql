insert into ops.sla_breach (ti_key, dag_id, task_id, business_date, seconds, threshold_seconds, alerted_at)
values (:ti_key, :dag_id, :task_id, :business_date, :seconds, :threshold_seconds, :now)
on conflict (ti_key) do nothing
