"""Reconciliation of a synthetic day through the shared steps (no Airflow): the seeded breaks and nothing
else in the queue, with their owners; control totals tie to the sources; replays change nothing; a later
day closes what it resolves."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pyarrow.parquet as pq
from sqlalchemy import text

from revcycle.adapters.db import engine_for
from revcycle.jobs import reconciliation
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)
SOURCES = ("open_items", "remittance", "bank_deposits", "claim_status", "supply_usage", "supplier_invoices")
OWNERS = {
    "payment_without_deposit": "finance",
    "deposit_amount_difference": "finance",
    "claim_reversal": "revenue cycle",
    "claim_status_paid_no_remittance": "revenue cycle",
    "claim_no_remittance": "revenue cycle",
    "invoice_without_usage": "supply chain",
    "price_mismatch": "supply chain",
}


def queue_snapshot() -> tuple:
    with engine_for("ops").connect() as conn:
        items = sorted(tuple(map(str, r)) for r in conn.execute(text("select * from ops.exception_item")))
        events = sorted(tuple(map(str, r)) for r in conn.execute(text("select * from ops.exception_event")))
    return items, events


def control_rows(day: dt.date) -> list[dict]:
    """control_totals.csv of the day, each value as text (as finance reads it), rows as a number."""
    path = get_settings().outbound / "finance" / day.isoformat() / "control_totals.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{**r, "rows": int(r["rows"])} for r in csv.DictReader(fh)]


def whole_lake(dataset: str) -> list[dict]:
    """Every row of a canonical dataset in the lake, every column, read straight from its files."""
    files = sorted((get_settings().lake / f"canonical__{dataset}").rglob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def open_queue() -> dict[tuple[str, str], dict]:
    return {(i["category"], i["reference"]): i for i in reconciliation.open_items() if i["status"] == "open"}


def test_seeded_breaks_exactly_once_with_owners_control_totals_and_replay(backend):
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 300, 13, supply_messages=80)
    for source in SOURCES:
        assert {r["state"] for r in run_source(source, DAY).values()} == {"posted"}
    reconciliation.run(DAY, "run")

    queue = open_queue()
    expected = {(b["category"], b["reference"]) for b in manifest["breaks"]}
    assert len(manifest["breaks"]) == len(expected)  # each seeded break once
    assert set(queue) == expected  # ... and nothing else
    assert {c for c, _ in expected} == set(OWNERS)
    assert all(item["owner_team"] == OWNERS[item["category"]] for item in queue.values())
    short = next(i for (c, _), i in queue.items() if c == "deposit_amount_difference")
    assert Decimal(str(short["amount_at_stake"])) == Decimal("25.00")

    # Control totals equal the sums of the sources (the manifest, computed when the files were written).
    runs = reconciliation.recorded_runs(DAY)
    ties = {(t["extract"], t["column"], t["scope"]): t for t in control_rows(DAY)}
    assert {t["tie_out"] for t in ties.values() if t["source"]} == {"pass"}
    for key, manifest_total in (
        (("cash", "payment_amount", "all rows"), "bpr02"),
        (("cash", "deposit_amount", "all rows"), "deposits"),
        (("claims", "paid_amount", "rows from 835 claim payments"), "sum_clp04"),
    ):
        assert Decimal(ties[key]["extract_total"]) == Decimal(ties[key]["source_total"])
        assert Decimal(ties[key]["extract_total"]) == Decimal(manifest["totals"][manifest_total])
    for key in (("claims", "applied_amount", "all rows"), ("denials", "amount", "all rows")):
        assert ties[key]["tie_out"] == "pass" and Decimal(ties[key]["extract_total"]) > 0, key
    assert ties[("supply", "amount_at_stake", "all rows")]["tie_out"] == "no source"
    assert json.loads(runs["exceptions"]["control_totals"])["ties"] == [
        t for t in control_rows(DAY) if t["extract"] == "exceptions"
    ]
    exceptions = json.loads(runs["exceptions"]["control_totals"])
    assert sum(exceptions["by_category"].values()) == len(expected)
    # Each extract: Parquet rows = CSV rows = recorded count, and the files are the ones hashed.
    for name, run in runs.items():
        table = pq.read_table(run["parquet_path"])
        with open(run["csv_path"], encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert table.num_rows == len(rows) == run["row_count"], name
        assert hashlib.sha256(open(run["csv_path"], "rb").read()).hexdigest() == run["csv_sha256"]
    cash_rows = pq.read_table(runs["cash"]["parquet_path"]).to_pylist()
    assert sum(r["payment_amount"] or 0 for r in cash_rows) == Decimal(manifest["totals"]["bpr02"])
    # The claims and denials extracts read only some columns of the lake, and only the denied claims'
    # adjustments: they still say what the whole lake says.
    lake = {name: whole_lake(name) for name in ("remittance", "claim_payment", "adjustment")}
    payer = {r["remittance_key"]: r["payer_identifier"] for r in lake["remittance"]}
    denied = {
        r["claim_payment_key"]: payer[r["remittance_key"]]
        for r in lake["claim_payment"]
        if r["claim_status_code"] == "4"
    }
    assert denied
    by_cause: dict[tuple, list] = {}
    for a in lake["adjustment"]:
        if a["claim_payment_key"] in denied:
            by_cause.setdefault((denied[a["claim_payment_key"]], a["group_code"], a["reason_code"]), []).append(a)
    denials = pq.read_table(runs["denials"]["parquet_path"]).to_pylist()
    assert {(d["payer_id"], d["group_code"], d["reason_code"]): (d["claims"], d["amount"]) for d in denials} == {
        k: (len({a["claim_payment_key"] for a in v}), sum((a["amount"] for a in v), Decimal(0)))
        for k, v in by_cause.items()
    }
    claims = pq.read_table(runs["claims"]["parquet_path"]).to_pylist()
    lake_claims = {r["claim_payment_key"]: r for r in lake["claim_payment"]}
    from_lake = [c for c in claims if c["claim_payment_key"] in lake_claims]
    assert len(from_lake) == len(lake_claims)
    for c in from_lake:
        r = lake_claims[c["claim_payment_key"]]
        assert (c["billed_amount"], c["paid_amount"], c["claim_status_code"], c["is_reversal"]) == (
            r["charge_amount"],
            r["paid_amount"],
            r["claim_status_code"],
            r["is_reversal"],
        )

    # Replay: the same extracts byte for byte, no queue change.
    before = queue_snapshot()
    reconciliation.run(DAY, "replay")
    again = reconciliation.recorded_runs(DAY)
    assert {k: (v["parquet_sha256"], v["csv_sha256"]) for k, v in again.items()} == {
        k: (v["parquet_sha256"], v["csv_sha256"]) for k, v in runs.items()
    }
    assert queue_snapshot() == before

    # A later day: the missing deposit arrives and the short one is made good; both items close, the rest stay.
    later = DAY + dt.timedelta(days=1)
    amounts = {
        f"{t['payer_id']}|{t['trace']}": t["bpr02"]
        for f in manifest["files"]
        if f["type"] == "835"
        for t in f["transactions"]
    }
    missing = next(r for c, r in expected if c == "payment_without_deposit")
    short_ref = next(r for c, r in expected if c == "deposit_amount_difference")
    (s.inbound / "bank" / "deposits_20261125.csv").write_text(
        "deposit_date,bank_reference,originator_id,trace_number,amount,deposit_type\n"
        f"2026-11-25,BNKLATE1,{missing.split('|')[0]},{missing.split('|')[1]},{amounts[missing]},ACH\n"
        f"2026-11-25,BNKLATE2,{short_ref.split('|')[0]},{short_ref.split('|')[1]},25.00,ACH\n"
    )
    run_source("bank_deposits", later)
    reconciliation.run(later, "later")
    still_open = open_queue()
    assert set(still_open) == expected - {
        ("payment_without_deposit", missing),
        ("deposit_amount_difference", short_ref),
    }
    closed = [i for i in reconciliation.open_items() if i["status"] == "closed"]
    assert sorted(i["category"] for i in closed) == ["deposit_amount_difference", "payment_without_deposit"]
    assert all(str(i["closed_on"])[:10] == "2026-11-25" and str(i["first_seen"])[:10] == "2026-11-24" for i in closed)
    with engine_for("ops").connect() as conn:
        history = conn.execute(text("select event, count(*) from ops.exception_event group by event")).all()
    assert dict(history)["closed"] == 2 and dict(history)["opened"] == len(expected)
    # The summary tells each day's movements apart from the queue as a whole.
    from revcycle.airflow.runtime import day_summary

    first, second = day_summary(DAY), day_summary(later)
    assert first["exceptions_today"] == {"new": len(expected), "closed": 0}
    assert second["exceptions_today"] == {"new": 0, "closed": 2}
    assert sum(second["exceptions_open"].values()) == len(expected) - 2
    # Replaying the first day now leaves the queue as the later day left it.
    after_later = queue_snapshot()
    reconciliation.run(DAY, "old-replay")
    assert queue_snapshot() == after_later


def test_an_erp_posting_fault_surfaces_as_paid_not_posted(rc_home):
    s = get_settings()
    generate_day(s.inbound, DAY, 60, 4, supply_messages=10)
    for source in SOURCES:
        run_source(source, DAY)
    with engine_for("erp").begin() as conn:
        key, pcn = conn.execute(
            text(
                "select claim_payment_key, patient_control_number from erp.receipt_application "
                "where level = 'claim' and is_reversal = false order by application_key"
            )
        ).first()
        conn.execute(text("delete from erp.receipt_application where claim_payment_key = :k"), {"k": key})
        # ... and a cash receipt the ERP holds with no 835 payment behind it: the cash tie-out fails by its amount.
        conn.execute(
            text(
                "insert into erp.cash_receipt (receipt_key, payer_id, trace_number, amount, credit_debit_flag, "
                "source_sha256, transaction_control, business_date) "
                "values ('f00d', 'P9', 'T9', 12.34, 'C', 'manual', '0001', :day)"
            ),
            {"day": DAY},
        )
    reconciliation.run(DAY)
    ties = {(t["extract"], t["column"], t["scope"]): t for t in control_rows(DAY)}
    receipts = ties[("cash", "erp_receipt_amount", "all rows")]
    assert (receipts["tie_out"], receipts["difference"]) == ("fail", "-12.34")
    assert ties[("cash", "payment_amount", "all rows")]["tie_out"] == "pass"
    with open(get_settings().outbound / "finance" / DAY.isoformat() / "cash.csv", encoding="utf-8-sig") as fh:
        assert all(r["payer_name"] for r in csv.DictReader(fh) if r["payment_amount"])  # N1*PR of the payer
    assert ("claim_paid_not_posted", pcn) in open_queue()
    assert open_queue()[("claim_paid_not_posted", pcn)]["owner_team"] == "integration support"
