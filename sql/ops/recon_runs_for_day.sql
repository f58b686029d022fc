select * from ops.recon_run where business_date = :business_date order by extract
