-- Open accounts receivable and 276 claim status inquiries, with their 999 answers.

-- Grain: one open claim as the billing system's latest snapshot that listed it shows it.
-- Member ids are tokens; names and birth dates never enter the ERP interface.
create table if not exists erp.ar_open_item (
    claim_key                    varchar(32)   primary key,
    payer_id                     varchar(80)   not null,
    patient_control_number       varchar(60)   not null,
    payer_claim_control_number   varchar(60),
    billed_amount                numeric(18,2) not null,
    service_date_from            date          not null,
    service_date_to              date          not null,
    submitted_date               date          not null,
    member_token                 varchar(32),
    as_of_date                   date          not null,
    source_sha256                varchar(64)   not null,
    source_line                  integer       not null
);

-- Grain: one claim asked about in one 276 (payer + patient control number + business date).
create table if not exists erp.claim_inquiry (
    inquiry_key                  varchar(32)   primary key,
    claim_key                    varchar(32)   not null,
    payer_id                     varchar(80)   not null,
    patient_control_number       varchar(60)   not null,
    payer_claim_control_number   varchar(60),
    billed_amount                numeric(18,2) not null,
    interchange_receiver_id      varchar(40)   not null,
    interchange_control_number   varchar(20)   not null,
    group_control_number         varchar(20)   not null,
    transaction_control_number   varchar(20)   not null,
    file_sha256                  varchar(64)   not null,
    business_date                date          not null
);

-- Grain: one AK2 answer of a 999 received (sender + its ISA13 + 999 ST02 + AK2 position).
create table if not exists erp.claim_inquiry_ack (
    acknowledgement_key          varchar(32)   primary key,
    interchange_sender_id        varchar(40)   not null,
    interchange_control_number   varchar(20)   not null,
    acknowledged_group_control   varchar(20)   not null,
    acknowledged_set_id          varchar(6)    not null,
    acknowledged_set_control     varchar(20)   not null,
    set_status                   varchar(2)    not null,
    syntax_error_codes           varchar(40),
    error_segments               varchar(400),
    group_status                 varchar(2),
    source_sha256                varchar(64)   not null,
    business_date                date          not null
)
