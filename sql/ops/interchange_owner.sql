select s.sha256 from ops.interchange_seen as s
where s.sender_id = :sender_id and s.control_number = :control_number
