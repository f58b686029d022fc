-- Ingestion ledger: one row per inbound file (grain: one landed file, by sha256).
-- The spine of replays, audits and operations (docs/layout.md).
create table if not exists ops.ingestion_ledger (
    sha256                  varchar(64)  primary key,
    source                  varchar(40)  not null,
    original_name           varchar(255) not null,
    size_bytes              bigint       not null,
    raw_path                varchar(1024) not null,
    business_date           date         not null,
    state                   varchar(20)  not null,
    reason                  varchar(60),
    detail                  varchar(1000),
    interchange_sender_id   varchar(40),
    interchange_controls    text,
    group_controls          text,
    transaction_controls    text,
    row_counts              text,
    control_totals          text,
    report_path             varchar(1024),
    report_sha256           varchar(64),
    ack_path                text,
    partition_key           varchar(100),
    outputs                 text,
    release_count           integer      not null default 0,
    dag_run_id              varchar(250),
    landed_at               timestamp    not null,
    updated_at              timestamp    not null
);


-- Every state change of a ledger row, in order (grain: one transition).
create table if not exists ops.ledger_event (
    sha256       varchar(64)  not null,
    seq          integer      not null,
    state        varchar(20)  not null,
    reason       varchar(60),
    dag_run_id   varchar(250),
    at           timestamp    not null,
    primary key (sha256, seq)
);

-- Business identities a file owns (grain: one kind + scope + key): interchange control numbers per
-- sender (kind 'interchange', scope ISA06, key ISA13) and payments (kind 'cash_receipt', key the
-- remittance key).  A second file with the same identity is a re-send; a quarantined file gives its up.
create table if not exists ops.business_claim (
    kind            varchar(40)  not null,
    scope           varchar(40)  not null,
    claim_key       varchar(64)  not null,
    sha256          varchar(64)  not null,
    primary key (kind, scope, claim_key)
);

-- Inbound entries refused before landing (grain: source + name + day + reason): a symlink, FIFO or
-- device in the inbound folder, a dangerous name, a size that changed while fetched.  Nothing was read.
create table if not exists ops.ledger_refusal (
    source          varchar(40)   not null,
    original_name   varchar(255)  not null,
    business_date   date          not null,
    reason          varchar(60)   not null,
    detail          varchar(1000),
    dag_run_id      varchar(250),
    at              timestamp     not null,
    primary key (source, original_name, business_date, reason)
);
