-- Dashboards: every KPI of every business day.
select business_date, kpi, value, unit from ops.kpi_daily order by business_date, kpi
