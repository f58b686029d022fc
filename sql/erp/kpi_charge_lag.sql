-- Usage posted on a day and how many days after its use it reached the ERP.
select transaction_date, business_date from erp.inventory_transaction where business_date = :business_date
