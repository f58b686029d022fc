"""The warm DAG runner behind run-day: one Airflow process, a forked child per DAG, failures reported, not fatal."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from revcycle.airflow.runtime import WarmRunner, airflow_env, ensure_airflow_home


def test_a_failing_dag_is_reported_and_the_runner_serves_the_next(rc_home, tmp_path, capfd):
    env = airflow_env(tmp_path / "airflow")
    ensure_airflow_home(env, print)
    capfd.readouterr()
    runner = WarmRunner(env, tmp_path / "dag_runner.log")
    try:
        assert runner.preload_seconds > 0  # GX was imported before any fork
        for attempt in (1, 2):
            ok, seconds, log = runner.run("no_such_dag", dt.date(2026, 11, 24), tmp_path / f"logs{attempt}")
            assert not ok and seconds > 0
            assert "no_such_dag" in log.read_text()
    finally:
        runner.close()
    assert runner.proc.returncode == 0
    # The libraries' start-up logging went to the runner's log, not to the operator's terminal.
    terminal = capfd.readouterr()
    assert "great_expectations" not in terminal.err + terminal.out
    assert "great_expectations" in (tmp_path / "dag_runner.log").read_text()


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to list processes")
def test_a_dag_run_leaves_no_process_behind(rc_home, tmp_path):
    """OpenLineage emits from a process pool; a DAG's process must stop its workers, not orphan them."""
    env = airflow_env(tmp_path / "airflow")
    ensure_airflow_home(env, print)
    runner = WarmRunner(env, tmp_path / "dag_runner.log")
    try:
        ok, _, log = runner.run("bank_deposits", dt.date(2026, 11, 24), tmp_path / "logs")
        assert ok, log.read_text()[-3000:]
    finally:
        runner.close()
    assert "left behind" not in log.read_text()
    assert _processes_with(f"REVCYCLE_HOME={rc_home}") == []


_WARM_CHECK = """
import gc, threading
import airflow
from revcycle.airflow import dag_runner
warmed = dag_runner._warm_airflow()
assert "execution API" in warmed and "plugins" in warmed, warmed
assert threading.active_count() == 1, threading.enumerate()  # nothing a fork would lose
from airflow.sdk.execution_time import supervisor
api = supervisor.in_process_api_server()
assert api is supervisor.in_process_api_server()  # one API (and one lifespan) for every task of a DAG run
assert api.app._cadwyn_initialized  # its versioned routes are built before the fork, not on a first request
for _ in range(2):  # clients come and go per task; the shared transport keeps serving
    client = supervisor.InProcessTestSupervisor._api_client()
    assert client.get("health/ping").status_code in (200, 404)
    del client
    gc.collect()
print("warm ok")
"""


def test_the_runner_builds_the_execution_api_once_before_forking(rc_home, tmp_path):
    """Each ``dag.test`` used to build its execution API and generate cadwyn's routes (~3 s) before its first
    task; the runner builds them once, and a DAG's tasks share one API instance."""
    import subprocess
    import sys

    env = airflow_env(tmp_path / "airflow")
    ensure_airflow_home(env, print)
    out = subprocess.run([sys.executable, "-c", _WARM_CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "warm ok" in out.stdout


def _span(log) -> tuple[str, str]:
    stamps = [line[:27] for line in log.read_text().splitlines() if line[:4].isdigit() and line[4:5] == "-"]
    return stamps[0], stamps[-1]


@pytest.mark.parametrize("erp", ["sqlite", "postgresql"])
def test_two_dags_run_side_by_side_on_a_fresh_metadata_database(rc_home, tmp_path, monkeypatch, erp):
    """run-day's lanes: two DAG processes at once, both posting to the ERP (SQLite or PostgreSQL), the first time
    either DAG is written to the metadata database.  Without the runner writing the DAGs first, both would insert
    the same DAG and asset rows and one fail."""
    from contextlib import nullcontext

    from revcycle.adapters import ledger
    from revcycle.airflow.runtime import day_summary
    from revcycle.settings import get_settings, reset_settings
    from revcycle.synthetic.day import generate_day
    from tests.postgres import fresh_database

    day = dt.date(2026, 11, 24)
    with fresh_database() if erp == "postgresql" else nullcontext() as url:
        if url:
            monkeypatch.setenv("REVCYCLE_ERP_URL", url)
            monkeypatch.setenv("REVCYCLE_OPS_URL", url)
            reset_settings()
        manifest = generate_day(get_settings().inbound, day, 60, 7)
        env = airflow_env(tmp_path / "airflow")
        ensure_airflow_home(env, print)
        runner = WarmRunner(env, tmp_path / "dag_runner.log")
        try:
            logs = {d: runner.start(d, day, tmp_path / "logs") for d in ("remittance", "supply_usage")}
            ended = [runner.next_done() for _ in logs]
        finally:
            runner.close()
        assert {e[0] for e in ended} == set(logs)
        for dag_id, ok, seconds, log in ended:
            assert ok, f"{dag_id}: " + log.read_text()[-3000:]
            assert seconds > 0 and log == logs[dag_id]
        (a0, a1), (b0, b1) = (_span(log) for log in logs.values())
        assert a0 < b1 and b0 < a1  # the two runs overlapped in time
        states = {(f["source"], f["state"]) for f in ledger.for_day(day)}
        assert states == {("remittance", "posted"), ("supply_usage", "posted")}, states
        summary = day_summary(day)  # both posted in full: cash to the cent, journals balanced, usage lines
        assert summary["amount_posted"] == manifest["totals"]["bpr02"]
        assert summary["journal_debits"] == summary["journal_credits"]
        assert summary["supply"]["usage_lines_posted"] > 0
