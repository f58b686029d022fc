"""Where an embedded posting's time goes as the ERP grows: re-post one day's files into a home's ERP.

    REVCYCLE_HOME=<home> .venv/bin/python bench/post_growth.py 2026-12-01 [--source remittance]
        [--moved-from /old/home] [--checkpoint]

Takes the day's posted files of the source from the home's ledger, builds their postings from the lake as
the post step does (``steps.read_outputs``), deletes those rows from the ERP (by primary key) and posts them
again through the post step's own ``steps.load_postings``, timing every statement.  Run it on a home of many
days and on a copy whose ERP file is removed (an empty ERP) to see which statements grow with the tables.
``--moved-from``: the home was copied from there (the ledger holds absolute lake paths).  ``--checkpoint``:
checkpoint and truncate the ERP's WAL first.  It changes the home's ERP (the rows come back as they were, with
the WAL grown): use a copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections import defaultdict

from sqlalchemy import event

from revcycle.adapters import erp, ledger
from revcycle.adapters.db import as_date, engine_for
from revcycle.pipeline.steps import load_postings, read_outputs
from revcycle.sources.registry import get_source

PRIMARY_KEYS = {
    "cash_receipt": "receipt_key",
    "receipt_application": "application_key",
    "journal_line": "journal_line_key",
    "inventory_transaction": "transaction_key",
    "replenishment_request": "request_key",
}


def _size_mb(path: str) -> int:
    return os.path.getsize(path) >> 20 if os.path.exists(path) else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("day", type=dt.date.fromisoformat)
    ap.add_argument("--source", default="remittance")
    ap.add_argument("--moved-from", default="")
    ap.add_argument("--checkpoint", action="store_true")
    args = ap.parse_args()
    home = os.environ["REVCYCLE_HOME"]
    print(f"ERP file {_size_mb(f'{home}/erp.sqlite')} MB, WAL {_size_mb(f'{home}/erp.sqlite-wal')} MB")
    source = get_source(args.source)
    engine = engine_for("erp")
    seconds: dict[str, float] = defaultdict(float)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, executemany) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, executemany) -> None:
        seconds[" ".join(statement.split())[:90]] += time.perf_counter() - conn.info["t0"]

    if args.checkpoint:
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql("pragma erp.wal_checkpoint(TRUNCATE)")
        print(f"checkpoint {time.perf_counter() - started:.1f} s")

    work = []
    for entry in ledger.for_day(args.day):
        row = ledger.get(entry["sha256"])
        if row["source"] != args.source or row["state"] != "posted":
            continue
        locations = json.loads(row["outputs"])
        if args.moved_from:
            locations = [location.replace(args.moved_from, home, 1) for location in locations]
        work.append((row, source.post(read_outputs(locations), as_date(row["business_date"]), row["sha256"])))
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for _, rows in work:
            for name, table_rows in rows.items():
                key = PRIMARY_KEYS[name]
                cursor.executemany(f"delete from erp.{name} where {key} = ?", [(r[key],) for r in table_rows])
    seconds.clear()

    fill = erp._fill_stage

    def timed_fill(conn, name, rows) -> None:
        started = time.perf_counter()
        fill(conn, name, rows)
        seconds[f"fill stage_{name}"] += time.perf_counter() - started

    erp._fill_stage = timed_fill
    total = 0.0
    for row, rows in work:
        started = time.perf_counter()
        load_postings(source, row["sha256"], rows, json.loads(row["control_totals"] or "{}"))
        total += time.perf_counter() - started
    rows_posted = sum(len(v) for _, rows in work for v in rows.values())
    print(
        f"{len(work)} file(s), {rows_posted:,} rows: erp.load {total:.1f} s, statements {sum(seconds.values()):.1f} s"
    )
    for statement, spent in sorted(seconds.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {spent:6.2f} s  {statement}")


if __name__ == "__main__":
    main()
