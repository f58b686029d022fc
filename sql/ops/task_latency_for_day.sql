select dag_id, task_id, map_index, try_number, state, seconds, threshold_seconds, breached
from ops.task_latency where business_date = :business_date order by dag_id, task_id, map_index, try_number
