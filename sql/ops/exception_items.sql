select * from ops.exception_item
