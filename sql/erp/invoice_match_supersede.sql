-- Outcomes an evaluation no longer produces (an invoice line that has since met its usage) are superseded.
update erp.invoice_match set status = 'superseded', last_evaluated = :business_date
where last_evaluated < :business_date and status not in ('matched', 'superseded')
