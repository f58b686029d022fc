"""The FHIR route against the X12 route on the README's main job (issue 27).

The same synthetic day (same generator, same seed) runs twice through `revcycle run-day`: once with every
payer sending X12 835s, once with every payer sending its remittance as FHIR R4 resources over Bulk Data
(`$export` from the synthetic payer's HTTPS server, SMART backend authorisation).  The ERP rows, the finance
extracts and the exceptions must be the same.  The FHIR home then runs the next day: its export brings only
that day's payments (the watermark), and nothing PHI leaves the places PHI may be.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from revcycle.synthetic.identities import PAYERS
from tests.e2e.test_run_day import searchable_text
from tests.phi import phi_values

pytestmark = pytest.mark.airflow
DAY = "2026-11-24"
# Where each route names its own source file and control number (a 277 event's key is its place in the
# 277's envelope; a ClaimResponse's, its payer, claim and date); everything else must be equal.
ROUTE_COLUMNS = {
    "source_sha256",
    "transaction_control",
    "applied_at",
    "claim_status_event_key",
    "last_event_key",
    # A DFT line's key is its message's control id and FT1 number; a ChargeItem's, its transaction id.
    "transaction_key",
    "usage_key",
    "request_key",
    "match_key",
}


def _run(home: Path, day: str, fhir_payers: str, ehr: bool = False) -> str:
    env = dict(
        os.environ,
        REVCYCLE_HOME=str(home),
        REVCYCLE_TOKEN_KEY="parity-token-key-0001",
        REVCYCLE_DAY_LANES="2",
        REVCYCLE_FHIR_PAYERS=fhir_payers,
        REVCYCLE_FHIR_EHR_SHARE="1" if ehr else "0",
    )
    out = subprocess.run(
        [str(Path(sys.executable).with_name("revcycle")), "run-day", "--date", day, "--claims", "200", "--seed", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def _erp(home: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(home / "erp.sqlite")
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
    out = {}
    for table in tables:
        cursor = conn.execute(f"select * from {table}")
        keep = [i for i, d in enumerate(cursor.description) if d[0] not in ROUTE_COLUMNS]
        out[table] = sorted(tuple(row[i] for i in keep) for row in cursor.fetchall())
    conn.close()
    return out


def _without(extract: bytes, column: str) -> list[tuple]:
    rows = list(csv.DictReader(io.StringIO(extract.decode("utf-8-sig"))))
    return sorted(tuple(v for k, v in r.items() if k != column) for r in rows)


def _ledger(home: Path, source: str) -> list[dict]:
    conn = sqlite3.connect(home / "ops.sqlite")
    conn.row_factory = sqlite3.Row
    rows = [
        dict(r) for r in conn.execute("select * from ingestion_ledger where source = ? order by landed_at", (source,))
    ]
    conn.close()
    return rows


def test_the_fhir_route_posts_what_the_x12_route_posts(tmp_path):
    x12, fhir = tmp_path / "x12", tmp_path / "fhir"
    x12_out = _run(x12, DAY, "")
    fhir_out = _run(fhir, DAY, ",".join(p.payer_id for p in PAYERS), ehr=True)
    assert "fhir_remittance 1" in fhir_out and "remittance 4" not in fhir_out
    assert "fhir_claim_status 1" in fhir_out and ", claim_status 4" in x12_out and ", claim_status 4" not in fhir_out
    assert "fhir_supply_usage 1" in fhir_out and "supply_usage 2" in x12_out and ", supply_usage 1" in fhir_out
    assert "Bulk Data $export at https://127.0.0.1:" in fhir_out and "Bulk Data" not in x12_out
    assert "synthetic FHIR EHR: Bulk Data $export" in fhir_out

    a, b = _erp(x12), _erp(fhir)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], table
    assert len(a["cash_receipt"]) > 0 and len(a["journal_line"]) > 100 and len(a["receipt_application"]) > 100
    assert len(a["claim_status_history"]) >= len(a["claim_status"]) > 20
    assert len(a["inventory_transaction"]) > 50 and len(a["replenishment_request"]) > 10
    finance = Path("outbound") / "finance" / DAY
    names = sorted(p.name for p in (x12 / finance).iterdir() if p.suffix == ".csv")
    assert "exceptions.csv" in names and "cash.csv" in names
    for name in names:
        a_text, b_text = (x12 / finance / name).read_bytes(), (fhir / finance / name).read_bytes()
        if name == "supply.csv":  # names each usage's replenishment request: its key is the route's
            assert _without(a_text, "request_key") == _without(b_text, "request_key") != []
        else:
            assert a_text == b_text, name
    ops_a, ops_b = sqlite3.connect(x12 / "ops.sqlite"), sqlite3.connect(fhir / "ops.sqlite")
    query = "select item_key, category, reference, owner_team, amount_at_stake from exception_item order by 1"
    assert ops_a.execute(query).fetchall() == ops_b.execute(query).fetchall() != []

    # One export file, posted; the ERP's receipts tie to it.
    (first,) = _ledger(fhir, "fhir_remittance")
    assert first["state"] == "posted" and first["original_name"].startswith("fhir_remittance_")
    totals = json.loads(first["control_totals"])
    assert totals["format"] == "fhir-r4-ndjson" and totals["rejected"] == []

    (statuses,) = _ledger(fhir, "fhir_claim_status")
    assert statuses["state"] == "posted" and json.loads(statuses["control_totals"])["rejected"] == []

    # The next day: the export asks _since the last one, and brings that day's payments only.
    _run(fhir, "2026-11-25", ",".join(p.payer_id for p in PAYERS), ehr=True)
    files = _ledger(fhir, "fhir_remittance")
    assert [f["state"] for f in files] == ["posted", "posted"]
    traces = [{t["st02"] for t in json.loads(f["control_totals"])["transactions"]} for f in files]
    day2 = json.loads((fhir / "inbound" / "_manifest" / "2026-11-25.json").read_text())
    assert sum(len(t) for t in traces[1:]) == day2["totals"]["fhir_payments"]
    api = sqlite3.connect(fhir / "ops.sqlite")
    kickoffs = api.execute("select count(*) from api_call where path = '/$export' and status = 202").fetchone()[0]
    assert kickoffs == 6  # three sources (their own _type and watermark), two days
    claims = [json.loads(f["control_totals"])["claims"] for f in _ledger(fhir, "fhir_claim_status")]
    day2_statuses = sum(f["claims"] for f in day2["files"] if f["type"] == "fhir_claim_status")
    assert len(claims) == 2 and claims[1] == day2_statuses > 0
    charges = [json.loads(f["control_totals"])["charges"] for f in _ledger(fhir, "fhir_supply_usage")]
    day2_charges = sum(f["messages"] for f in day2["files"] if f["type"] == "fhir_supply")
    assert len(charges) == 2 and charges[1] == day2_charges > 0

    # PHI: the member ids the FHIR resources carried appear nowhere they must not.
    phi = phi_values(fhir / "inbound")
    assert len(phi) > 50
    leaks = {name: sorted(v for v in phi if v in text)[:5] for name, text in searchable_text(fhir).items()}
    assert {k: v for k, v in leaks.items() if v} == {}
