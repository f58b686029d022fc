insert into ops.listing_seen (source, item_id, size_bytes, sha256, landed_at)
values (:source, :item_id, :size_bytes, :sha256, :landed_at)
on conflict (source, item_id, size_bytes) do nothing
