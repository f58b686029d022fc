"""Helpers for tests that run the shared steps (no Airflow): run a source, snapshot the ERP."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for
from revcycle.pipeline import steps

TABLES = ("erp.cash_receipt", "erp.receipt_application", "erp.journal_line")


def run_source(source: str, day: dt.date, run_id: str = "test-run") -> dict[str, dict]:
    """Land and process every file of a source; return {original_name: ledger row}."""
    landed = steps.land(source, day, run_id)
    for sha in landed["files"]:
        steps.process_file(source, sha, run_id)
    return {r["original_name"]: r for r in ledger.for_day(day) if r["source"] == source}


def erp_snapshot(tables: tuple[str, ...] = TABLES) -> dict[str, str]:
    """A digest per ERP table of every row, sorted: equal digests mean no row changed."""
    out = {}
    with engine_for("erp").connect() as conn:
        for table in tables:
            rows = conn.execute(text(f"select * from {table}")).all()
            rows = sorted(repr(tuple(r)) for r in rows)
            out[table] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def receipts_and_journals() -> list[tuple[str, Decimal, Decimal, Decimal]]:
    with engine_for("erp").connect() as conn:
        rows = conn.execute(
            text(
                "select r.trace_number, r.amount, "
                "(select sum(j.debit) from erp.journal_line as j where j.journal_key = r.receipt_key), "
                "(select sum(j.credit) from erp.journal_line as j where j.journal_key = r.receipt_key) "
                "from erp.cash_receipt as r"
            )
        ).all()
    cent = Decimal("0.01")
    return [
        (t, Decimal(str(a)).quantize(cent), Decimal(str(d)).quantize(cent), Decimal(str(c)).quantize(cent))
        for t, a, d, c in rows
    ]
