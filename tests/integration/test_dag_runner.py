"""The warm DAG runner behind run-day: one Airflow process, a forked child per DAG, failures reported, not fatal."""

from __future__ import annotations

import datetime as dt

from revcycle.runtime import WarmRunner, airflow_env, ensure_airflow_home


def test_a_failing_dag_is_reported_and_the_runner_serves_the_next(rc_home, tmp_path):
    env = airflow_env(tmp_path / "airflow")
    ensure_airflow_home(env, print)
    runner = WarmRunner(env)
    try:
        assert runner.preload_seconds > 0          # GX was imported before any fork
        for attempt in (1, 2):
            ok, seconds, log = runner.run("no_such_dag", dt.date(2026, 11, 24), tmp_path / f"logs{attempt}")
            assert not ok and seconds > 0
            assert "no_such_dag" in log.read_text()
    finally:
        runner.close()
    assert runner.proc.returncode == 0
