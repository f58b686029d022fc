-- DAG runs of a business day as the latency listener saw them.
select dag_id, run_id, count(*) as tries, sum(case when state = 'success' then 0 else 1 end) as failed,
       sum(case when breached then 1 else 0 end) as breaches, sum(seconds) as seconds, min(started_at) as started,
       max(ended_at) as ended
from ops.task_latency where business_date = :business_date
group by dag_id, run_id order by min(started_at)
