-- Grain: one claim as the payer last reported it (latest claim-level STC by status date).
create table if not exists erp.claim_status (
    claim_key                    varchar(32)   primary key,
    payer_id                     varchar(80),
    patient_control_number       varchar(60)   not null,
    payer_claim_control_number   varchar(60),
    category_code                varchar(4)    not null,
    status_code                  varchar(8),
    category_description         varchar(200),
    status_description           varchar(200),
    is_final                     boolean       not null,
    status_date                  date          not null,
    charge_amount                numeric(18,2),
    payment_amount               numeric(18,2),
    check_number                 varchar(40),
    last_event_key               varchar(32)   not null,
    source_sha256                varchar(64)   not null,
    business_date                date          not null
);

-- Grain: one status composite ever received for a claim or service line (full history).
create table if not exists erp.claim_status_history (
    claim_status_event_key       varchar(32)   primary key,
    claim_key                    varchar(32)   not null,
    level                        varchar(20)   not null,
    line_seq                     integer,
    procedure_code               varchar(48),
    payer_id                     varchar(80),
    patient_control_number       varchar(60),
    payer_claim_control_number   varchar(60),
    category_code                varchar(4),
    status_code                  varchar(8),
    entity_code                  varchar(4),
    category_description         varchar(200),
    status_description           varchar(200),
    status_date                  date,
    charge_amount                numeric(18,2),
    payment_amount               numeric(18,2),
    check_number                 varchar(40),
    source_sha256                varchar(64)   not null,
    business_date                date          not null
)
