insert into ops.interchange_seen (sender_id, control_number, sha256)
values (:sender_id, :control_number, :sha256)
on conflict (sender_id, control_number) do nothing
