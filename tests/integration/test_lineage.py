"""OpenLineage events of a real DAG run (``airflow dags test``) against a golden file, and `revcycle lineage`.

Run ids, times, producer versions and the temporary home are normalised away; what remains - jobs,
input/output dataset names, facet names, the revcycle facet and the column lineage of the post step -
must equal ``tests/golden/lineage_remittance.json``.  Regenerate it deliberately with
``REVCYCLE_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "lineage_remittance.json"
DAY = dt.date(2026, 11, 24)
pytestmark = pytest.mark.airflow


def _rel(name: str, home: Path) -> str:
    return name.replace(str(home), "<home>")


def normalise(events: list[dict], home: Path) -> list[dict]:
    out = []
    for e in events:
        if e.get("eventType") != "COMPLETE":
            continue
        facet = e["run"].get("facets", {}).get("revcycle") or {}
        item = {
            "job": e["job"]["name"],
            "inputs": sorted(
                f"{i['namespace']}|{_rel(i['name'], home)}|{','.join(sorted(i.get('facets', {})))}"
                for i in e.get("inputs", [])
            ),
            "outputs": sorted(
                f"{o['namespace']}|{_rel(o['name'], home)}|{','.join(sorted(o.get('facets', {})))}"
                for o in e.get("outputs", [])
            ),
            "revcycle": {
                k: facet.get(k) for k in ("source", "step", "sha256", "state", "reason", "rowCounts") if k in facet
            },
        }
        for o in e.get("outputs", []):
            cl = o.get("facets", {}).get("columnLineage")
            if cl and o["name"].endswith("erp.cash_receipt"):
                item["cash_receipt_columns"] = {
                    col: sorted(f"{Path(f['name']).name}.{f['field']}" for f in spec["inputFields"])
                    for col, spec in sorted(cl["fields"].items())
                }
        out.append(item)
    return sorted(out, key=lambda i: json.dumps(i, sort_keys=True))


def test_remittance_dag_lineage_matches_the_golden_file_and_every_task_is_timed(tmp_path):
    """One real `airflow dags test` run: lineage against the golden file; the SLA listener times every task try
    and alerts the one task whose threshold is set to zero exactly once."""
    home = tmp_path / "home"
    inbound = home / "inbound" / "remittance"
    inbound.mkdir(parents=True)
    for f in sorted((FIXTURES / "x12" / "835").glob("*.835")):
        shutil.copy(f, inbound / f.name)
    sla_file = tmp_path / "sla.toml"
    sla_file.write_text('[task_seconds]\ndefault = 600\n"remittance.summarize" = 0\n')
    from tests.alert_server import start

    received, url, server = start()
    env = dict(
        os.environ,
        REVCYCLE_HOME=str(home),
        REVCYCLE_TOKEN_KEY="lineage-token-key-0001",
        REVCYCLE_SLA_FILE=str(sla_file),
        REVCYCLE_ALERT_WEBHOOK=url,
    )
    code = (
        "import datetime as dt, pathlib\n"
        "from revcycle.airflow.runtime import airflow_env, ensure_airflow_home, run_dag\n"
        "from revcycle.settings import get_settings\n"
        "get_settings().ensure_dirs()\n"
        "env = airflow_env(); ensure_airflow_home(env, print)\n"
        f"ok, _, log = run_dag('remittance', dt.date({DAY.year}, {DAY.month}, {DAY.day}), env, "
        f"pathlib.Path({str(tmp_path / 'logs')!r}))\n"
        "assert ok, open(log).read()[-3000:]\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    server.shutdown()
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    import sqlite3

    conn = sqlite3.connect(home / "ops.sqlite")
    timed = conn.execute("select task_id, count(*), sum(breached) from task_latency group by task_id").fetchall()
    conn.close()
    files = len(list(inbound.iterdir()))
    assert sorted(timed) == sorted(
        [
            ("land", 1, 0),
            ("process_file.parse", files, 0),
            ("process_file.validate", files, 0),
            ("process_file.publish", files, 0),
            ("process_file.post", files, 0),
            ("summarize", 1, 1),
        ]
    )
    assert [(a["dag_id"], a["task_id"]) for a in received] == [("remittance", "summarize")]
    events = [json.loads(line) for line in (home / "lineage" / "events.jsonl").read_text().splitlines()]
    got = normalise(events, home)
    if os.environ.get("REVCYCLE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(GOLDEN.read_text())
    # No PHI in any event: the fixtures' subscriber names and member ids.
    text = (home / "lineage" / "events.jsonl").read_text()
    for fixture in (FIXTURES / "x12" / "835").glob("*.835"):
        for seg in fixture.read_text().replace("\n", "").split("~"):
            if seg.startswith(("NM1*QC", "NM1*IL")):
                parts = seg.split("*")
                assert not {parts[3], parts[-1]} & {w for w in text.replace('"', " ").split()}, seg[:6]


def test_revcycle_lineage_traces_an_erp_row_to_its_file_payment_and_claim(rc_home):
    from sqlalchemy import text

    from revcycle.adapters.db import engine_for
    from revcycle.jobs.provenance import trace
    from revcycle.settings import get_settings
    from tests.pipeline_helpers import run_source

    inbound = get_settings().inbound / "remittance"
    inbound.mkdir(parents=True)
    shutil.copy(FIXTURES / "x12" / "835" / "reversal-and-correction.835", inbound)
    (row,) = run_source("remittance", DAY).values()
    with engine_for("erp").connect() as conn:
        app_key, pcn, applied = conn.execute(
            text(
                "select application_key, patient_control_number, applied_amount from erp.receipt_application "
                "where level = 'claim' order by application_key"
            )
        ).first()
        trace_number = conn.execute(text("select trace_number from erp.cash_receipt")).scalar()
    answer = trace(f"erp.receipt_application:{app_key}")
    assert answer["from_file"]["sha256"] == row["sha256"]
    assert answer["from_file"]["original_name"] == "reversal-and-correction.835"
    assert answer["payment"]["trace_number"] == trace_number
    assert answer["claim"]["patient_control_number"] == pcn
    assert answer["claim"]["paid_amount"] == str(applied) or float(answer["claim"]["paid_amount"]) == float(applied)
    from revcycle.adapters import ledger

    lake_file = json.loads(ledger.get(row["sha256"])["outputs"])[0]
    assert trace(lake_file)["from_file"]["sha256"] == row["sha256"]
    with pytest.raises(ValueError):
        trace("erp.no_such_table:1")
