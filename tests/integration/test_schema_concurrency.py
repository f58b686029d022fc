"""Many task processes opening a fresh database at once all get its schema, none fails.

On the cluster every task try is a new process whose first query applies the DDL. Without serialising,
PostgreSQL refused the losers of a race (``create schema if not exists``: unique violation on
pg_namespace) and deadlocked two concurrent ``alter table``s; both sent tasks into two-minute retries.
Real processes, released together by a barrier, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import os

PROCESSES, ROUNDS = 6, 5


def _open(barrier, erp_url: str, ops_url: str, home: str, out) -> None:
    os.environ.update(REVCYCLE_ERP_URL=erp_url, REVCYCLE_OPS_URL=ops_url, REVCYCLE_HOME=home)
    from revcycle.adapters.db import engine_for, query

    barrier.wait()
    try:
        engine_for("ops")
        engine_for("erp")
        with engine_for("ops").connect() as conn:
            query(conn, "ops/ledger_for_day", {"business_date": "2026-11-24"}).all()
        out.put(("ok", None))
    except Exception as exc:  # noqa: BLE001 - the test reports what each process met
        out.put(("failed", f"{type(exc).__name__}: {str(exc)[:200]}"))


def _race(erp_url: str, ops_url: str, home: str) -> list[tuple]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_open, args=(barrier, erp_url, ops_url, home, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(60)
    return results


def test_concurrent_first_opens_all_get_the_schema(backend, tmp_path):
    from revcycle.adapters.db import database_url

    for n in range(ROUNDS):
        if backend == "sqlite":
            erp_url, ops_url = f"sqlite:///{tmp_path}/erp{n}.sqlite", f"sqlite:///{tmp_path}/ops{n}.sqlite"
        else:
            from tests.postgres import fresh_database

            with fresh_database() as url:
                results = _race(url, url, str(tmp_path))
            assert {r[0] for r in results} == {"ok"}, results
            continue
        results = _race(erp_url, ops_url, str(tmp_path))
        assert {r[0] for r in results} == {"ok"}, results
    assert database_url("ops")  # the backend fixture's own database stays untouched
