select * from ops.outbound_file where kind = :kind and business_date = :business_date order by partner_id
