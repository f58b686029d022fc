"""The README's main job end to end: `revcycle run-day` generates a day and runs every DAG through Airflow.

Then PHI is looked for everywhere it must not be: logs, lineage events, reports, acknowledgements,
the lake (Parquet read back as values), the ops and ERP databases.  Only the raw zone, the inbound
drop and the quarantine may hold the source files as received.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from revcycle.airflow.runtime import RUN_ORDER
from tests.phi import phi_values

ROOT = Path(__file__).resolve().parents[2]
# The exchange folder stands in for the payers' SFTP: the 276s sent there name subscribers by design.
PHI_ALLOWED = ("inbound", "raw", "quarantine", "secrets", "exchange")
pytestmark = pytest.mark.airflow


def searchable_text(home: Path) -> dict[str, str]:
    out = {}
    for path in home.rglob("*"):
        rel = path.relative_to(home)
        if not path.is_file() or rel.parts[0] in PHI_ALLOWED or "airflow" == rel.parts[0] and path.suffix == ".db":
            continue
        if path.suffix == ".parquet":
            out[str(rel)] = json.dumps(pq.read_table(path).to_pylist(), default=str)
        elif path.suffix == ".sqlite":
            conn = sqlite3.connect(path)
            out[str(rel)] = "\n".join(conn.iterdump())
            conn.close()
        elif path.suffix in (".sqlite-wal", ".sqlite-shm"):
            continue
        else:
            out[str(rel)] = path.read_bytes().decode("utf-8", "replace")
    return out


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- example:begin -->", 1)[1].split("<!-- example:end -->", 1)[0]
    return block.strip().removeprefix("```").removesuffix("```").strip("\n")


def terminal(text: str, home: Path) -> list[str]:
    """Output lines with the home shown as var/ (as the README shortens it) and seconds masked."""
    text = text.replace(str(home), "var")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)  # the synthetic FHIR payer's free port
    return [re.sub(r"\d+\.\ds\b", "N.Ns", line) for line in text.strip("\n").splitlines()]


def test_run_day_end_to_end_without_phi_leaks(tmp_path):
    home = tmp_path / "home"
    # Two DAGs at a time, as in the README (its default is the machine's CPUs, at most 4).
    env = dict(os.environ, REVCYCLE_HOME=str(home), REVCYCLE_TOKEN_KEY="e2e-token-key-0001", REVCYCLE_DAY_LANES="2")
    cli = Path(sys.executable).with_name("revcycle")
    out = subprocess.run(
        [str(cli), "run-day", "--date", "2026-11-24", "--claims", "150", "--seed", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    # What the terminal showed is the README's example, line for line (paths shortened, seconds masked).
    assert terminal(out.stderr + out.stdout, home) == terminal(readme_example(), home)
    assert "Business day 2026-11-24" in out.stdout
    assert "remittance ok" in out.stdout
    for label in ("lake:", "erp_database:", "reports:", "lineage_log:"):
        assert label in out.stdout
    m = re.search(r"amount posted:\s+([\d.]+)", out.stdout)
    manifest = json.loads((home / "inbound" / "_manifest" / "2026-11-24.json").read_text())
    assert m and m.group(1) == manifest["totals"]["bpr02"]
    assert (home / "lineage" / "events.jsonl").stat().st_size > 0
    expected = next(f for f in manifest["files"] if f["type"] == "open_ar")["expected_inquiries"]
    m = re.search(
        r"276 inquiries:\s+(\d+) claims in (\d+) files; 999 answers: (\d+) accepted, (\d+) rejected, "
        r"(\d+) awaiting",
        out.stdout,
    )
    assert m, out.stdout
    asked, files, accepted, rejected, awaiting = map(int, m.groups())
    assert asked == sum(map(len, expected.values())) == accepted + rejected and awaiting == 0 and rejected > 0
    assert files == sum(1 for v in expected.values() if v)
    breaks = next(f for f in manifest["files"] if f["type"] == "invoice_csv")["breaks"]
    m = re.search(r"invoice match:\s+(\d+) matched, (\d+) exceptions", out.stdout)
    assert m and int(m.group(2)) == len(breaks) and int(m.group(1)) > 0
    m = re.search(r"exceptions:\s+(\d+) new today, (\d+) closed today; (\d+) open in all \(", out.stdout)
    assert m and int(m.group(1)) == int(m.group(3)) == len(manifest["breaks"]) and m.group(2) == "0"  # a first day
    finance = home / "outbound" / "finance" / "2026-11-24"
    extracts = ("cash", "claims", "denials", "supply", "exceptions")
    assert {p.name for p in finance.iterdir()} == {
        *(f"{n}.{kind}" for n in extracts for kind in ("csv", "parquet")),
        "control_totals.csv",
        "schema.json",
    }
    with open(finance / "control_totals.csv", encoding="utf-8-sig", newline="") as fh:
        ties = list(csv.DictReader(fh))
    assert {t["extract"] for t in ties} == set(extracts)
    assert {t["tie_out"] for t in ties if t["source"]} == {"pass"}, ties
    # Governance: every task timed, the audit index written with its KPIs, lineage with our facets.
    assert re.search(r"SLA breaches:\s+0 ", out.stdout), out.stdout
    index = json.loads((home / "reports" / "audit" / "2026-11-24" / "index.json").read_text())
    assert {r["dag_id"] for r in index["runs"]} == set(RUN_ORDER)  # every DAG of the day, none twice
    assert len(index["runs"]) == len(RUN_ORDER) == 12
    assert {k["kpi"] for k in index["kpis"]} >= {"failed_file_rate", "reconciliation_backlog", "charge_lag_days"}
    assert all(f["report_sha256_now"] == f["report_sha256_ledger"] for f in index["files"] if f["report"])
    events = [json.loads(line) for line in (home / "lineage" / "events.jsonl").read_text().splitlines()]
    posted = [
        e
        for e in events
        if e.get("eventType") == "COMPLETE"
        and e["job"]["name"] == "remittance.process_file.post"
        and e["run"].get("facets", {}).get("revcycle", {}).get("state") == "posted"
    ]
    assert posted and all(any("columnLineage" in o.get("facets", {}) for o in e["outputs"]) for e in posted)
    exceptions = (home / "reports" / "supply_match" / "2026-11-24" / "exceptions.csv").read_text()
    assert sorted(line.split(",")[0] for line in exceptions.splitlines()[1:]) == sorted(b["kind"] for b in breaks)

    phi = phi_values(home / "inbound")
    assert len(phi) > 50
    leaks = {name: sorted(v for v in phi if v in text)[:5] for name, text in searchable_text(home).items()}
    assert {k: v for k, v in leaks.items() if v} == {}

    # The Airflow UI reads true durations, asset events that say what they carry, reconciliation as consumer.
    db = sqlite3.connect(home / "airflow" / "airflow.db")
    runs = db.execute("select dag_id, julianday(end_date) - julianday(start_date) from dag_run").fetchall()
    assert len(runs) == len(RUN_ORDER) and all(0 < days * 86400 < 600 for _, days in runs), runs
    for dag_id, kind in (("remittance", "835"), ("fhir_remittance", "fhir_remittance")):
        extra = json.loads(
            db.execute(
                "select e.extra from asset_event e join asset a on a.id = e.asset_id "
                "where a.uri like '%/canonical__remittance' and e.source_dag_id = ? order by e.id desc",
                (dag_id,),
            ).fetchone()[0]
        )
        assert extra["business_date"] == "2026-11-24" and extra["files_posted"] == extra["files"] > 0
        sent = sum(Decimal(f["bpr02"]) for f in manifest["files"] if f["type"] == kind)
        assert extra["rows"] > 0 and Decimal(extra["control_totals"]["bpr02"]) == sent > 0
    recon_extra = json.loads(
        db.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.uri like '%/recon__cash'"
        ).fetchone()[0]
    )
    assert recon_extra["rows"] > 0 and recon_extra["open_exceptions"] == len(manifest["breaks"])
    consumed = db.execute(
        "select count(*) from task_inlet_asset_reference where dag_id = 'reconciliation' and task_id = 'reconcile_day'"
    ).fetchone()[0]
    assert consumed == 6, consumed
    db.close()

    # The same day again: nothing new, so nothing is run, and the summary says what it found.
    files_in = int(re.search(r"files in:\s+(\d+)", out.stdout).group(1))
    assert f"this run:        {files_in} new files (posted {files_in})" in out.stdout
    rerun = subprocess.run(
        [str(cli), "run-day", "--date", "2026-11-24", "--claims", "150", "--seed", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"this run:        0 new files; {files_in} already posted, unchanged" in rerun.stdout
    assert "running through Airflow" not in rerun.stderr
    # A replay processes every file again, changes nothing in the ERP, and tells the same day as the first run.
    replay = subprocess.run(
        [str(cli), "replay", "--date", "2026-11-24"], env=env, capture_output=True, text=True, timeout=900
    )
    assert replay.returncode == 0, replay.stdout[-2000:] + replay.stderr[-3000:]
    assert f"this run:        0 new files; {files_in} processed again, unchanged in the ERP" in replay.stdout

    def day_lines(text: str) -> list[str]:
        keep = ("files in:", "amount posted:", "claim statuses:", "276 inquiries:", "supply usage:", "invoice match:")
        return [line for line in text.splitlines() if line.strip().startswith(keep)]

    assert day_lines(replay.stdout) == day_lines(out.stdout) and len(day_lines(out.stdout)) == 6
