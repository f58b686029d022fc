-- Integration KPIs per business day (grain: one KPI of one day).
create table if not exists ops.kpi_daily (
    business_date   date          not null,
    kpi             varchar(60)   not null,
    value           numeric(18,4),
    unit            varchar(20)   not null,
    detail          varchar(400),
    primary key (business_date, kpi)
)
