insert into ops.outbound_file (
    file_key, kind, partner_id, business_date, file_name, sha256, raw_path, interchange_control, claims,
    transaction_sets, state, dag_run_id, created_at)
values (:file_key, :kind, :partner_id, :business_date, :file_name, :sha256, :raw_path, :interchange_control, :claims,
        :transaction_sets, 'written', :dag_run_id, :now)
on conflict (file_key) do nothing
