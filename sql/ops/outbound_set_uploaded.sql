update ops.outbound_file set state = 'uploaded', target = :target, uploaded_at = :now, dag_run_id = :dag_run_id
where file_key = :file_key and state = 'written'
