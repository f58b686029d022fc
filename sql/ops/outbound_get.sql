select * from ops.outbound_file where file_key = :file_key
