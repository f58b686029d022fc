"""The ingestion ledger: one row per landed file, its state and its reasons.

States: landed -> parsed -> validated -> published -> posted, or quarantined
(with a reason code).  Every change is also appended to ``ops.ledger_event``
so an auditor sees the whole history of a file.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from revcycle.adapters.db import engine_for, query

STATES = ("landed", "parsed", "validated", "published", "posted", "quarantined")


def _now() -> dt.datetime:
    # Operational timestamps only: never part of a business key.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _exec(name: str, params: dict) -> Any:
    with engine_for("ops").begin() as conn:
        return query(conn, name, params)


def record_landed(
    *,
    sha256: str,
    source: str,
    original_name: str,
    size_bytes: int,
    raw_path: str,
    business_date: dt.date,
    dag_run_id: str | None,
) -> bool:
    """Insert a landed file; False when the same bytes were landed before."""
    now = _now()
    with engine_for("ops").begin() as conn:
        result = query(
            conn,
            "ops/ledger_insert",
            {
                "sha256": sha256,
                "source": source,
                "original_name": original_name,
                "size_bytes": size_bytes,
                "raw_path": raw_path,
                "business_date": business_date,
                "dag_run_id": dag_run_id,
                "now": now,
            },
        )
        if result.rowcount:
            query(
                conn,
                "ops/ledger_event_insert",
                {"sha256": sha256, "state": "landed", "reason": None, "dag_run_id": dag_run_id, "now": now},
            )
        return bool(result.rowcount)


def record_refused(
    *, source: str, original_name: str, reason: str, detail: str, business_date: dt.date, dag_run_id: str | None
) -> None:
    """An inbound entry that was never landed (a link, a FIFO, a bad name, a size mismatch), once per day."""
    _exec(
        "ops/ledger_refusal_insert",
        {
            "source": source,
            "original_name": original_name[:255],
            "reason": reason,
            "detail": (detail or "")[:1000],
            "business_date": business_date,
            "dag_run_id": dag_run_id,
            "now": _now(),
        },
    )


def refused(business_date: dt.date) -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [
            dict(r) for r in query(conn, "ops/ledger_refusals_for_day", {"business_date": business_date}).mappings()
        ]


def get(sha256: str) -> dict | None:
    with engine_for("ops").connect() as conn:
        row = query(conn, "ops/ledger_get", {"sha256": sha256}).mappings().first()
    return dict(row) if row else None


def set_state(
    sha256: str, state: str, *, reason: str | None = None, detail: str | None = None, dag_run_id: str | None = None
) -> None:
    assert state in STATES, state
    now = _now()
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/ledger_set_state",
            {
                "sha256": sha256,
                "state": state,
                "reason": reason,
                "detail": (detail or "")[:1000] or None,
                "dag_run_id": dag_run_id,
                "now": now,
            },
        )
        query(
            conn,
            "ops/ledger_event_insert",
            {"sha256": sha256, "state": state, "reason": reason, "dag_run_id": dag_run_id, "now": now},
        )
        if state == "quarantined":
            query(conn, "ops/claim_release", {"sha256": sha256})


def set_envelope(
    sha256: str, sender_id: str, interchanges: list[str], groups: list[str], transactions: list[str]
) -> None:
    _exec(
        "ops/ledger_set_envelope",
        {
            "sha256": sha256,
            "sender_id": sender_id,
            "interchange_controls": ",".join(interchanges),
            "group_controls": ",".join(groups),
            "transaction_controls": ",".join(transactions),
            "now": _now(),
        },
    )


def set_results(
    sha256: str,
    *,
    row_counts: dict | None = None,
    control_totals: dict | None = None,
    report_path: str | None = None,
    report_sha256: str | None = None,
    ack_path: str | None = None,
) -> None:
    _exec(
        "ops/ledger_set_results",
        {
            "sha256": sha256,
            "row_counts": json.dumps(row_counts, sort_keys=True) if row_counts is not None else None,
            "control_totals": json.dumps(control_totals, sort_keys=True, default=str)
            if control_totals is not None
            else None,
            "report_path": report_path,
            "report_sha256": report_sha256,
            "ack_path": ack_path,
            "now": _now(),
        },
    )


def claim(sha256: str, kind: str, keys: list[str], scope: str = "") -> str | None:
    """Claim business identities for this file, all or none, in one transaction; return the sha256 of
    another file that owns one of them (and claim nothing), else None.

    The inserts come first: on SQLite the first write takes the database's write lock, on PostgreSQL a
    concurrent claimer of the same key waits on it until this transaction ends; so the read that follows
    sees every other claim, and two files can never both own one identity.
    """
    unique = sorted(set(keys))
    if not unique:
        return None
    with engine_for("ops").connect() as conn:
        with conn.begin() as tx:
            query(
                conn,
                "ops/claim_insert",
                [{"kind": kind, "scope": scope, "claim_key": k, "sha256": sha256} for k in unique],
            )
            owner = query(
                conn,
                "ops/claim_others",
                {"kind": kind, "scope": scope, "keys": unique, "sha256": sha256},
                expanding=("keys",),
            ).first()
            if owner is not None:
                tx.rollback()
                return owner.sha256
    return None


def claim_interchanges(sha256: str, sender_id: str, controls: list[str]) -> str | None:
    """Register (ISA06, ISA13) pairs for this file; return the sha256 of another file that owns one."""
    return claim(sha256, "interchange", controls, scope=sender_id)


def matching(prefix: str) -> list[dict]:
    """Up to two files whose sha256 starts with ``prefix`` (hex digits only), whatever their state."""
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        return []
    with engine_for("ops").connect() as conn:
        return [dict(r) for r in query(conn, "ops/ledger_matching", {"prefix": prefix}).mappings()]


def unfinished(source: str) -> list[str]:
    with engine_for("ops").connect() as conn:
        return [r[0] for r in query(conn, "ops/ledger_unfinished", {"source": source})]


def for_day(business_date: dt.date) -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [dict(r) for r in query(conn, "ops/ledger_for_day", {"business_date": business_date}).mappings()]


def quarantined(business_date: dt.date | None = None) -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [dict(r) for r in query(conn, "ops/ledger_quarantined", {"business_date": business_date}).mappings()]


def release(sha256: str) -> bool:
    """Re-queue a quarantined file; the next run of its source processes it once."""
    now = _now()
    with engine_for("ops").begin() as conn:
        result = query(conn, "ops/ledger_release", {"sha256": sha256, "now": now})
        if result.rowcount:
            query(
                conn,
                "ops/ledger_event_insert",
                {"sha256": sha256, "state": "landed", "reason": "RELEASED", "dag_run_id": None, "now": now},
            )
    return bool(result.rowcount)


def set_outputs(sha256: str, partition_key: str | None, outputs: list[str]) -> None:
    _exec(
        "ops/ledger_set_outputs",
        {"sha256": sha256, "partition_key": partition_key, "outputs": json.dumps(outputs), "now": _now()},
    )


def requeue_posted(business_date: dt.date) -> int:
    """For a replay: posted files of the day go back to 'landed' (history kept in ledger_event)."""
    now = _now()
    with engine_for("ops").begin() as conn:
        shas = [r[0] for r in query(conn, "ops/ledger_posted_on", {"business_date": business_date})]
        for sha in shas:
            query(
                conn,
                "ops/ledger_set_state",
                {"sha256": sha, "state": "landed", "reason": None, "detail": None, "dag_run_id": None, "now": now},
            )
            query(
                conn,
                "ops/ledger_event_insert",
                {"sha256": sha, "state": "landed", "reason": "REPLAY", "dag_run_id": None, "now": now},
            )
    return len(shas)
