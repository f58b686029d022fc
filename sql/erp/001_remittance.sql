-- ERP interface tables for remittance posting. Money is numeric(18,2).

-- Grain: one payment (835 transaction set): payer + trace + payment date.
create table if not exists erp.cash_receipt (
    receipt_key          varchar(32)   primary key,
    payer_id             varchar(40)   not null,
    payer_name           varchar(120),
    trace_number         varchar(60)   not null,
    payment_date         date,
    amount               numeric(18,2) not null,
    payment_method       varchar(10),
    handling_code        varchar(4),
    credit_debit_flag    varchar(2),
    source_sha256        varchar(64)   not null,
    transaction_control  varchar(20)   not null,
    business_date        date          not null
);

-- Grain: one claim payment (level 'claim') or one service line payment (level 'service_line').
create table if not exists erp.receipt_application (
    application_key                 varchar(32)   primary key,
    receipt_key                     varchar(32)   not null,
    level                           varchar(12)   not null,
    claim_payment_key               varchar(32)   not null,
    service_line_key                varchar(32),
    patient_control_number          varchar(60),
    payer_claim_control_number      varchar(60),
    claim_status_code               varchar(4),
    is_reversal                     boolean       not null,
    charge_amount                   numeric(18,2) not null,
    applied_amount                  numeric(18,2) not null,
    patient_responsibility_amount   numeric(18,2),
    business_date                   date          not null
);


-- Grain: one debit or credit line of a remittance journal (journal_key = receipt_key).
create table if not exists erp.journal_line (
    journal_line_key   varchar(32)   primary key,
    journal_key        varchar(32)   not null,
    line_number        integer       not null,
    account            varchar(20)   not null,
    debit              numeric(18,2) not null,
    credit             numeric(18,2) not null,
    source_type        varchar(24)   not null,
    source_key         varchar(32)   not null,
    group_code         varchar(4),
    reason_code        varchar(20),
    memo               varchar(120),
    business_date      date          not null
);

