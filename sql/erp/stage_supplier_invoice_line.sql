-- Staging table shaped like its target, private to the loading connection.
create temp table if not exists stage_supplier_invoice_line as select * from erp.supplier_invoice_line where 1 = 0;
delete from stage_supplier_invoice_line
