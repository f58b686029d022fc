update ops.ingestion_ledger
set interchange_sender_id = :sender_id, interchange_controls = :interchange_controls,
    group_controls = :group_controls, transaction_controls = :transaction_controls, updated_at = :now
where sha256 = :sha256
