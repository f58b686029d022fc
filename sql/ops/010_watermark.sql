-- Grain: one incremental source's memory of what it has landed (issue 27).
-- A FHIR Bulk Data source keeps the transactionTime of its last export whose files all landed (the next
-- kick-off's _since); a partner's paged listing keeps the names and sizes it has landed.
create table if not exists ops.source_watermark (
    source           varchar(120)  primary key,
    mark             varchar(64)   not null,
    updated_at       timestamp     not null
);

create table if not exists ops.listing_seen (
    source           varchar(120)  not null,
    item_id          varchar(200)  not null,
    size_bytes       bigint        not null,
    sha256           varchar(64)   not null,
    landed_at        timestamp     not null,
    primary key (source, item_id, size_bytes)
);
