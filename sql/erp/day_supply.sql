-- Supply figures of a business day: usage issued, replenishment asked, invoice match outcomes (as of the day).
select
    (select count(*) from erp.inventory_transaction where business_date = :business_date) as usage_lines,
    (select coalesce(sum(quantity * unit_cost), 0) from erp.inventory_transaction
      where business_date = :business_date) as usage_cost,
    (select count(*) from erp.replenishment_request where business_date = :business_date) as replenishments,
    (select count(*) from erp.invoice_match where last_evaluated = :business_date and status = 'matched') as matched,
    (select count(*) from erp.invoice_match where last_evaluated = :business_date
        and status not in ('matched', 'superseded')) as exceptions
