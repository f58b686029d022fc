select invoice_line_key, supplier_id, erp_item_id, serial, lot, quantity, unit_price, extended_amount
from erp.supplier_invoice_line where business_date <= :business_date
order by invoice_date, invoice_number, line_number
