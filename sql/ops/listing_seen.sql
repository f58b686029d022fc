select item_id, size_bytes from ops.listing_seen where source = :source
