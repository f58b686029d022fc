-- Dashboards: each reconciliation extract of each day with its counts and control totals.
select business_date, extract, row_count, control_totals, parquet_path from ops.recon_run order by business_date, extract
