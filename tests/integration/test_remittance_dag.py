"""The remittance DAG run by Airflow itself (``airflow dags test``) on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revcycle.adapters import ledger
from revcycle.airflow.runtime import airflow_env, ensure_airflow_home, run_dag
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.conftest import reset_caches
from tests.pipeline_helpers import erp_snapshot, receipts_and_journals
from tests.postgres import fresh_database

DAY = dt.date(2026, 11, 24)
pytestmark = pytest.mark.airflow


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = airflow_env(home)
    ensure_airflow_home(env, lambda m: None)
    return home


def run_day_through_dag(airflow_home, tmp_path) -> dict:
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 120, 5)
    ok, seconds, log = run_dag("remittance", DAY, airflow_env(airflow_home), tmp_path / "logs")
    assert ok, log.read_text()[-3000:]
    return manifest


def check_day(manifest, airflow_home, tmp_path):
    rows = [r for r in ledger.for_day(DAY) if r["source"] == "remittance"]
    assert len(rows) == 4 and {r["state"] for r in rows} == {"posted"}
    expected = {
        t["trace"]: Decimal(t["bpr02"]) for f in manifest["files"] if f["type"] == "835" for t in f["transactions"]
    }
    posted = receipts_and_journals()
    assert {t: a for t, a, _, _ in posted} == expected
    assert all(d == c for _, _, d, c in posted)
    before = erp_snapshot()
    assert ledger.requeue_posted(DAY) == 4
    ok, _, log = run_dag("remittance", DAY, airflow_env(airflow_home), tmp_path / "logs-replay")
    assert ok, log.read_text()[-3000:]
    assert {r["state"] for r in ledger.for_day(DAY)} == {"posted"}
    assert erp_snapshot() == before


def test_day_through_the_dag_on_sqlite(rc_home, airflow_home, tmp_path):
    manifest = run_day_through_dag(airflow_home, tmp_path)
    assert get_settings().erp_url.startswith("sqlite")
    check_day(manifest, airflow_home, tmp_path)


@pytest.mark.postgres
def test_day_through_the_dag_on_postgresql(rc_home, airflow_home, tmp_path, monkeypatch):
    with fresh_database() as url:
        monkeypatch.setenv("REVCYCLE_ERP_URL", url)
        monkeypatch.setenv("REVCYCLE_OPS_URL", url)
        reset_caches()
        manifest = run_day_through_dag(airflow_home, tmp_path)
        from revcycle.adapters.db import engine_for

        assert engine_for("erp").dialect.name == "postgresql"
        check_day(manifest, airflow_home, tmp_path)


def test_poison_files_are_quarantined_and_the_run_goes_on(rc_home, airflow_home, tmp_path):
    """Files that crashed the parse before (a superscript digit in SE01, CLP04 1E999999999) failed their
    task on every retry and so the run; now they are quarantined and the run, its summary and Assets finish."""
    from tests.corpus import CASES

    s = get_settings()
    generate_day(s.inbound, DAY, 120, 5)
    for name in ("835/se01-superscript-digits", "835/clp04-huge-exponent"):
        case = next(c for c in CASES if c.name == name)
        (s.inbound / "remittance" / case.filename).write_bytes(case.data)
    ok, _, log = run_dag("remittance", DAY, airflow_env(airflow_home), tmp_path / "logs")
    assert ok, log.read_text()[-3000:]
    rows = {r["original_name"]: r for r in ledger.for_day(DAY) if r["source"] == "remittance"}
    assert (rows["se01-superscript-digits.835"]["reason"], rows["clp04-huge-exponent.835"]["reason"]) == (
        "SE_COUNT_MISMATCH",
        "BAD_NUMBER",
    )
    assert sorted(r["state"] for r in rows.values()) == ["posted"] * 4 + ["quarantined"] * 2
    text = log.read_text()
    assert "task_id='summarize'" in text and "end task task_id=summarize" in text  # it ran and pushed its XCom
