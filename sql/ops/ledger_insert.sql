insert into ops.ingestion_ledger (
    sha256, source, original_name, size_bytes, raw_path, business_date, state,
    release_count, dag_run_id, landed_at, updated_at)
values (:sha256, :source, :original_name, :size_bytes, :raw_path, :business_date, 'landed',
        0, :dag_run_id, :now, :now)
on conflict (sha256) do nothing
