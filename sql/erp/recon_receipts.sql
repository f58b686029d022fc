select receipt_key, amount, credit_debit_flag from erp.cash_receipt where business_date <= :business_date
