-- Dashboards: SLA breaches per business day and DAG.
select business_date, dag_id, count(*) as breaches from ops.sla_breach
where business_date is not null group by business_date, dag_id order by business_date, dag_id
