"""Faults on the real cluster while business days run (issue 26): one trial of each fault CI can afford.

``revcycle cluster chaos`` runs one business day per fault on the running cluster, strikes while a task of
the named step runs, recovers as an operator would (the component started again, Airflow retrying), and
checks the day against the embedded run of the same day and seed: ERP totals and rows, journals, each
payment once, lake digests, manifests whole, every file posted or quarantined. The full matrix (every fault,
three times) is the same command with its defaults; docs/reliability.md has its figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.integration.test_cluster import REVCYCLE, _revcycle, _servers_or_skip

pytestmark = pytest.mark.airflow

FAULTS = ["worker-kill@post", "s3-stop@publish", "scheduler-kill@validate", "postgresql-restart@post"]


def test_the_cluster_survives_each_fault_with_nothing_lost(tmp_path):
    _servers_or_skip()
    faults = list(FAULTS)
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        pytest.skip("restarting the local PostgreSQL needs root and pg_ctlcluster (as on CI)")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REVCYCLE_", "AIRFLOW"))}
    env = {
        **base,
        "REVCYCLE_TOKEN_KEY": "chaos-test-token-key",
        "REVCYCLE_HOME": str(tmp_path / "caller"),
        "REVCYCLE_CLUSTER_HOME": str(tmp_path / "cluster"),
        "REVCYCLE_CLUSTER_NAME": "revcycle_chaos_test",
        "REVCYCLE_CLUSTER_REDIS": "redis://127.0.0.1:6379/13",
    }
    rows_file = tmp_path / "rows.json"
    try:
        _revcycle(env, "cluster", "up", "--fresh", timeout=600)
        args = [REVCYCLE, "cluster", "chaos", "--trials", "1", "--claims", "120", "--work", str(tmp_path / "work")]
        proc = subprocess.run(
            [*args, *(a for f in faults for a in ("--fault", f)), "--out", str(rows_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=3000,
        )
    finally:
        _revcycle(env, "cluster", "down", "--wipe", timeout=300)
    assert rows_file.exists(), proc.stderr[-4000:]
    rows = json.loads(rows_file.read_text())
    assert [r["fault"] for r in rows] == faults
    for row in rows:
        assert row["injected"], f"{row['fault']}: no task of its step was seen running"
        assert row["passed"], json.dumps(row, indent=2)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # Each fault hit what it names, and the operator's restart brought that component back.
    by_fault = {r["fault"]: r for r in rows}
    assert by_fault["worker-kill@post"]["hit"] in ("worker1", "worker2")
    assert by_fault["worker-kill@post"]["hit"] in by_fault["worker-kill@post"]["restarted"]
    assert "s3" in by_fault["s3-stop@publish"]["restarted"]
    assert "scheduler" in by_fault["scheduler-kill@validate"]["restarted"]
    assert "| fault | trials | injected | survived | lost |" in proc.stdout
