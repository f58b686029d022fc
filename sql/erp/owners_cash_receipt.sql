-- Which file posted a receipt key already (a re-sent remittance must not post twice).
select r.receipt_key, r.source_sha256 from erp.cash_receipt as r where r.receipt_key in :keys
