-- Task latency and SLA breaches, recorded by the listener plugin for every task instance try.

-- Grain: one try of one task instance (dag, task, run, map index, try).
create table if not exists ops.task_latency (
    ti_key           varchar(32)   primary key,
    dag_id           varchar(250)  not null,
    task_id          varchar(250)  not null,
    run_id           varchar(250)  not null,
    map_index        integer       not null,
    try_number       integer       not null,
    business_date    date,
    state            varchar(20)   not null,
    started_at       timestamp     not null,
    ended_at         timestamp     not null,
    seconds          numeric(12,3) not null,
    threshold_seconds numeric(12,3) not null,
    breached         boolean       not null
);

-- Grain: one breach (one task instance try over its threshold); alerted exactly once.
create table if not exists ops.sla_breach (
    ti_key           varchar(32)   primary key,
    dag_id           varchar(250)  not null,
    task_id          varchar(250)  not null,
    business_date    date,
    seconds          numeric(12,3) not null,
    threshold_seconds numeric(12,3) not null,
    alerted_at       timestamp     not null
)
