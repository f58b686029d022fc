insert into ops.kpi_daily (business_date, kpi, value, unit, detail)
values (:business_date, :kpi, :value, :unit, :detail)
on conflict (business_date, kpi) do update set value = excluded.value, unit = excluded.unit, detail = excluded.detail
