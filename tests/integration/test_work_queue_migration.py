"""Migration 008 on a database that has queue history already: the old one-per-kind-and-day events become the
reconciliation's entries of the append-only history, and items gain their work-queue columns."""

from __future__ import annotations

import datetime as dt
import shutil

from sqlalchemy import text

from revcycle.adapters import db
from revcycle.settings import SQL_DIR
from tests.conftest import reset_caches


def test_existing_history_survives_the_work_queue_migration(backend, tmp_path, monkeypatch):
    before = tmp_path / "sql"
    shutil.copytree(SQL_DIR, before)
    for path in (before / "ops").glob("008_*.sql"):
        path.unlink()
    monkeypatch.setattr(db, "SQL_DIR", before)
    reset_caches()
    with db.engine_for("ops").begin() as conn:
        conn.execute(
            text(
                "insert into ops.exception_item (item_key, category, reference, owner_team, source, amount_at_stake,"
                " detail, status, first_seen, last_seen) values ('k1', 'payment_without_deposit', 'P|T', 'finance',"
                " 'cash', 12.34, 'd', 'open', :d, :d)"
            ),
            {"d": dt.date(2026, 11, 24)},
        )
        for event in ("opened", "changed"):
            conn.execute(
                text(
                    "insert into ops.exception_event (item_key, business_date, event, amount_at_stake) "
                    "values ('k1', :d, :e, 12.34)"
                ),
                {"d": dt.date(2026, 11, 24), "e": event},
            )
    monkeypatch.setattr(db, "SQL_DIR", SQL_DIR)
    db.reset_engines()  # the next engine applies what is new: 008
    from revcycle.jobs import work_queue

    history = work_queue.history("k1")
    assert [(e["event"], e["actor"], e["business_date"]) for e in history] == [
        ("opened", "reconciliation", dt.date(2026, 11, 24)),
        ("changed", "reconciliation", dt.date(2026, 11, 24)),
    ]
    item = work_queue.item("k1")
    assert item["assignee"] is None and item["resolution_code"] is None and item["payer_id"] is None
    fiona = work_queue.Actor("fiona", frozenset({"finance"}))
    work_queue.act("k1", "comment", fiona, note="two comments the same day")
    work_queue.act("k1", "comment", fiona, note="are two events")
    assert [e["event"] for e in work_queue.history("k1")][-2:] == ["commented", "commented"]
