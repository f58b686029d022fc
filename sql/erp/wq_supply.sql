-- Work queue evidence: the invoice match outcomes of one serial or lot.
select match_key, status, supplier_id, erp_item_id, serial, lot, usage_quantity, invoice_quantity,
       expected_unit_price, invoice_unit_price, amount_at_stake, first_seen, last_evaluated
from erp.invoice_match
where serial = :reference or lot = :reference
order by first_seen, match_key
