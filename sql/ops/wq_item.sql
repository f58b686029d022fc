-- Work queue: one exception item.
select * from ops.exception_item where item_key = :item_key
