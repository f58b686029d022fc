-- Outbound files we write for trading partners (grain: one kind + partner + business day).
-- Their content holds PHI by design (a 276 names the subscriber): the file itself lives in the raw zone.
create table if not exists ops.outbound_file (
    file_key                varchar(32)   primary key,
    kind                    varchar(10)   not null,
    partner_id              varchar(80)   not null,
    business_date           date          not null,
    file_name               varchar(255)  not null,
    sha256                  varchar(64)   not null,
    raw_path                varchar(1024) not null,
    interchange_control     varchar(20)   not null,
    claims                  integer       not null,
    transaction_sets        integer       not null,
    state                   varchar(20)   not null,
    target                  varchar(1024),
    dag_run_id              varchar(250),
    created_at              timestamp     not null,
    uploaded_at             timestamp
)
