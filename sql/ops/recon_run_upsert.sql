insert into ops.recon_run (business_date, extract, row_count, control_totals, parquet_path, parquet_sha256, csv_path,
                           csv_sha256)
values (:business_date, :extract, :row_count, :control_totals, :parquet_path, :parquet_sha256, :csv_path, :csv_sha256)
on conflict (business_date, extract) do update set
    row_count = excluded.row_count, control_totals = excluded.control_totals, parquet_path = excluded.parquet_path,
    parquet_sha256 = excluded.parquet_sha256, csv_path = excluded.csv_path, csv_sha256 = excluded.csv_sha256
