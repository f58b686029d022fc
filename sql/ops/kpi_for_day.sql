select kpi, value, unit, detail from ops.kpi_daily where business_date = :business_date order by kpi
