update ops.ingestion_ledger
set state = :state, reason = :reason, detail = :detail, dag_run_id = coalesce(:dag_run_id, dag_run_id),
    updated_at = :now
where sha256 = :sha256
