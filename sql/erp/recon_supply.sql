select status, supplier_id, erp_item_id, serial, lot, usage_quantity, invoice_quantity, expected_unit_price,
       invoice_unit_price, amount_at_stake, request_key, invoice_line_key
from erp.invoice_match where status <> 'superseded' and first_seen <= :business_date
order by status, supplier_id, serial, lot, request_key, invoice_line_key
