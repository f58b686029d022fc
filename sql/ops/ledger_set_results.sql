update ops.ingestion_ledger
set row_counts = coalesce(:row_counts, row_counts), control_totals = coalesce(:control_totals, control_totals),
    report_path = coalesce(:report_path, report_path), report_sha256 = coalesce(:report_sha256, report_sha256),
    ack_path = coalesce(:ack_path, ack_path), updated_at = :now
where sha256 = :sha256
