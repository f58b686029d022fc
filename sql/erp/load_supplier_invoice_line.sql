-- Immutable facts keyed by business identity: a replay inserts nothing.
insert into erp.supplier_invoice_line (
    invoice_line_key, invoice_number, supplier_id, invoice_date, line_number, vendor_item_number, erp_item_id, gtin, lot, serial, quantity, unit_price, extended_amount, po_reference, source_sha256, business_date)
select s.invoice_line_key, s.invoice_number, s.supplier_id, s.invoice_date, s.line_number, s.vendor_item_number, s.erp_item_id, s.gtin, s.lot, s.serial, s.quantity, s.unit_price, s.extended_amount, s.po_reference, s.source_sha256, s.business_date
from stage_supplier_invoice_line as s
where true
on conflict (invoice_line_key) do nothing
