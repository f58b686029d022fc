-- A match outcome keeps its first_seen date; status and amounts follow the latest evaluation.
insert into erp.invoice_match (
    match_key, request_key, invoice_line_key, status, supplier_id, erp_item_id, serial, lot, usage_quantity,
    invoice_quantity, expected_unit_price, invoice_unit_price, amount_at_stake, first_seen, last_evaluated)
select s.match_key, s.request_key, s.invoice_line_key, s.status, s.supplier_id, s.erp_item_id, s.serial, s.lot,
       s.usage_quantity, s.invoice_quantity, s.expected_unit_price, s.invoice_unit_price, s.amount_at_stake,
       s.first_seen, s.last_evaluated
from stage_invoice_match as s
where true
on conflict (match_key) do update set
    invoice_line_key = excluded.invoice_line_key, status = excluded.status, usage_quantity = excluded.usage_quantity, invoice_quantity = excluded.invoice_quantity,
    expected_unit_price = excluded.expected_unit_price, invoice_unit_price = excluded.invoice_unit_price,
    amount_at_stake = excluded.amount_at_stake, last_evaluated = excluded.last_evaluated
where excluded.last_evaluated >= erp.invoice_match.last_evaluated
