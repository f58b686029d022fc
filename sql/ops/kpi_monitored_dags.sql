select count(distinct dag_id) from ops.task_latency where business_date = :business_date
