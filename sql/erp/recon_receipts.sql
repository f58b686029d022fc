select receipt_key, amount from erp.cash_receipt where business_date <= :business_date
