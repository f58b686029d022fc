select dag_id, task_id, seconds, threshold_seconds, alerted_at from ops.sla_breach
where business_date = :business_date order by dag_id, task_id
