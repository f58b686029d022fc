-- Lake outputs of every posted file of a source up to a business day (what reconciliation reads).
select sha256, outputs from ops.ingestion_ledger
where source = :source and state = 'posted' and business_date <= :business_date
order by business_date, sha256
