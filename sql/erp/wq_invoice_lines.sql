-- Work queue evidence: the supplier invoice lines of one serial or lot (the other side of an implant's usage).
select invoice_line_key, invoice_number, supplier_id, invoice_date, line_number, erp_item_id, lot, serial, quantity,
       unit_price, extended_amount, source_sha256, business_date
from erp.supplier_invoice_line
where serial = :reference or lot = :reference
order by invoice_date, invoice_line_key
