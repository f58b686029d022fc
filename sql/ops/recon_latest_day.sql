select max(business_date) from ops.recon_run
