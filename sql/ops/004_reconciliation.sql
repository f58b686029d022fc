-- Reconciliation: the exception queue with its history, and each run's control totals.

-- Grain: one open or closed exception (category + business reference, e.g. payer|trace, patient control number,
-- serial). References are business identifiers, never PHI.
create table if not exists ops.exception_item (
    item_key         varchar(32)   primary key,
    category         varchar(40)   not null,
    reference        varchar(120)  not null,
    owner_team       varchar(40)   not null,
    source           varchar(20)   not null,
    amount_at_stake  numeric(18,2) not null,
    detail           varchar(400),
    status           varchar(10)   not null,
    first_seen       date          not null,
    last_seen        date          not null,
    closed_on        date
);

-- Grain: one thing that happened to an item on a business day (opened, amount changed, closed, reopened).
create table if not exists ops.exception_event (
    item_key         varchar(32)   not null,
    business_date    date          not null,
    event            varchar(10)   not null,
    amount_at_stake  numeric(18,2) not null,
    primary key (item_key, business_date, event)
);

-- Grain: one extract of one business day: row count, control totals and content hashes.
create table if not exists ops.recon_run (
    business_date    date          not null,
    extract          varchar(40)   not null,
    row_count        integer       not null,
    control_totals   text not null,
    parquet_path     varchar(1024) not null,
    parquet_sha256   varchar(64)   not null,
    csv_path         varchar(1024) not null,
    csv_sha256       varchar(64)   not null,
    primary key (business_date, extract)
)
