-- Supply and implant usage: inventory issues, consignment replenishment, supplier invoices and their match.

-- Grain: one usage line issued from stock to a case's cost center (key = the usage's business key).
create table if not exists erp.inventory_transaction (
    transaction_key     varchar(32)   primary key,
    erp_item_id         varchar(40)   not null,
    transaction_type    varchar(10)   not null,
    quantity            numeric(18,3) not null,
    unit_of_measure     varchar(10),
    unit_cost           numeric(18,4),
    cost_center         varchar(60),
    case_id             varchar(60),
    encounter_token     varchar(32),
    lot                 varchar(60),
    serial              varchar(60),
    consignment         boolean       not null,
    transaction_date    date          not null,
    source_sha256       varchar(64)   not null,
    business_date       date          not null
);

-- Grain: one consignment implant used, to be replenished (and invoiced) by its supplier.
create table if not exists erp.replenishment_request (
    request_key         varchar(32)   primary key,
    usage_key           varchar(32)   not null,
    supplier_id         varchar(40)   not null,
    erp_item_id         varchar(40)   not null,
    vendor_item_number  varchar(60),
    gtin                varchar(14),
    lot                 varchar(60),
    serial              varchar(60),
    quantity            numeric(18,3) not null,
    unit_price          numeric(18,4),
    case_id             varchar(60),
    used_on             date          not null,
    source_sha256       varchar(64)   not null,
    business_date       date          not null
);

-- Grain: one supplier invoice line (supplier + invoice number + line number).
create table if not exists erp.supplier_invoice_line (
    invoice_line_key    varchar(32)   primary key,
    invoice_number      varchar(60)   not null,
    supplier_id         varchar(40)   not null,
    invoice_date        date          not null,
    line_number         integer       not null,
    vendor_item_number  varchar(60),
    erp_item_id         varchar(40),
    gtin                varchar(14),
    lot                 varchar(60),
    serial              varchar(60),
    quantity            numeric(18,3) not null,
    unit_price          numeric(18,4) not null,
    extended_amount     numeric(18,2) not null,
    po_reference        varchar(60),
    source_sha256       varchar(64)   not null,
    business_date       date          not null
);

-- Grain: one matching outcome for a replenishment request, an invoice line, or a pair of them.
-- Re-computed each run from all open lines; a later run may turn an exception into a match.
create table if not exists erp.invoice_match (
    match_key           varchar(32)   primary key,
    request_key         varchar(32),
    invoice_line_key    varchar(32),
    status              varchar(30)   not null,
    supplier_id         varchar(40),
    erp_item_id         varchar(40),
    serial              varchar(60),
    lot                 varchar(60),
    usage_quantity      numeric(18,3),
    invoice_quantity    numeric(18,3),
    expected_unit_price numeric(18,4),
    invoice_unit_price  numeric(18,4),
    amount_at_stake     numeric(18,2) not null,
    first_seen          date          not null,
    last_evaluated      date          not null
)
