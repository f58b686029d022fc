-- Calls to trading partners' HTTPS APIs and their client certificates.

-- Grain: one attempt of one call (no payload, no query string: method, path, status, timing, identities).
create table if not exists ops.api_call (
    correlation_id   varchar(120)  not null,
    called_at        timestamp     not null,
    partner          varchar(120)  not null,
    method           varchar(10)   not null,
    path             varchar(400)  not null,
    status           integer,
    error            varchar(80),
    attempt          integer       not null,
    seconds          numeric(12,3) not null,
    waited           numeric(12,3) not null,
    business_key     varchar(100)  not null,
    primary key (correlation_id, called_at)
);

-- Grain: one partner's client certificate as last loaded (its expiry feeds the KPIs).
create table if not exists ops.api_certificate (
    partner          varchar(120)  primary key,
    subject          varchar(200)  not null,
    not_after        timestamp     not null,
    checked_at       timestamp     not null
)
