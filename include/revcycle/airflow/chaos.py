"""Faults on the running cluster while a business day runs, recovered as an operator would, then checked.

A trial runs one business day with ``run-day --on cluster`` and injects one fault into it. Most faults wait
until a task of the step they aim at is running: kill -9 a Celery worker (and the task processes it
started), stop the S3 server, restart PostgreSQL, restart Redis, or kill -9 the scheduler. Recovery is what an
operator does: start the component again (``cluster.restart``; every component that died with it too,
``cluster.heal``), and let Airflow find the lost task and retry it.

The day must then equal the embedded run of the same day and seed: the same ERP rows and totals, balanced
journals, each payment posted once, the same lake record digests, and no manifest naming a missing object or
object without its manifest. Every file ends posted or quarantined. ``run_matrix`` repeats every fault and
returns one row per trial (what was hit, seconds to recover, the checks), which ``revcycle cluster chaos``
prints and docs/reliability.md records.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from revcycle.airflow import cluster, s3server
from revcycle.airflow.runtime import child_env

Echo = Callable[[str], None]
REVCYCLE = [sys.executable, "-m", "revcycle.cli"]


@dataclass(frozen=True)
class Fault:
    name: str
    phase: str  # the step a running task must be in when the fault strikes ("any": the first task seen)
    what: str
    inject: Callable[[dict, dict], str]  # (cluster state, the running task instance) -> what was hit
    downtime: float  # seconds the component stays down before the operator acts


def _kill_tree(pid: int) -> None:
    """kill -9 a process, every process it started (task tries run in sessions of their own) and its group."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    psutil.wait_procs(procs, timeout=10)


def _kill_worker(state: dict, ti: dict) -> str:
    # Airflow records the worker's name as the task's hostname (cluster.worker_name): revcycle-worker1.
    worker = (ti.get("hostname") or "").removeprefix("revcycle-")
    if worker not in cluster.WORKERS:
        worker = cluster.WORKERS[0]
    _kill_tree(state["pids"][worker])
    return worker


def _stop_s3(state: dict, ti: dict) -> str:
    s3server.stop(state["pids"]["s3"], grace=5)
    return "s3"


def _kill_scheduler(state: dict, ti: dict) -> str:
    _kill_tree(state["pids"]["scheduler"])
    return "scheduler"


def _restart_postgresql(state: dict, ti: dict) -> str:
    """The local PostgreSQL that holds the Airflow metadata and the ERP/ops database, restarted (fast mode:
    every open connection is cut, open transactions roll back)."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return "postgresql"


REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def _restart_redis(state: dict, ti: dict) -> str:
    """The local Redis (the Celery broker) shut down without saving and started again, as this machine
    starts it: every queued message is lost, which Airflow must notice and queue again."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    time.sleep(1)
    subprocess.run(REDIS_START, check=True, capture_output=True, timeout=30)
    return "redis"


FAULTS = {
    f.name: f
    for f in (
        Fault("worker-kill@parse", "parse", "kill -9 the Celery worker running a parse", _kill_worker, 5),
        Fault("worker-kill@publish", "publish", "kill -9 the Celery worker running a publish", _kill_worker, 5),
        Fault("worker-kill@post", "post", "kill -9 the Celery worker running a post", _kill_worker, 5),
        Fault("s3-stop@publish", "publish", "stop SeaweedFS during a publish, start it 10 s later", _stop_s3, 10),
        Fault(
            "postgresql-restart@post",
            "post",
            "restart PostgreSQL (metadata, ERP, ops) during a post",
            _restart_postgresql,
            0,
        ),
        Fault("redis-restart@parse", "parse", "restart Redis (the broker; queued messages lost)", _restart_redis, 0),
        Fault("scheduler-kill@validate", "validate", "kill -9 the scheduler, start it 5 s later", _kill_scheduler, 5),
    )
}


def _running_task(state: dict, phase: str, done: Callable[[], bool]) -> dict | None:
    """The first running task instance of the step ``phase`` (``process_file.<phase>``), polled through the
    REST API until one runs or the day is over."""
    token = None
    while not done():
        try:
            token = token or cluster._token(state)
            tis = cluster._request(
                state, "GET", "/api/v2/dags/~/dagRuns/~/taskInstances?state=running&limit=200", token=token
            )["task_instances"]
        except (OSError, ValueError, KeyError):
            token = None
            time.sleep(0.5)
            continue
        for ti in tis:
            if phase == "any" or ti["task_id"].rsplit(".", 1)[-1] == phase:
                return ti
        time.sleep(0.15)
    return None


def checks(embedded: dict, on_cluster: dict, embedded_env: dict[str, str], day: str) -> dict:
    """What must hold after a faulted day, each as a value that is empty / True when it holds."""
    state = cluster.load_state()
    env = cluster.cluster_env(state)
    code = f"""
import json
from revcycle.adapters.db import engine_for, query
from revcycle.adapters.lake import Lake
with engine_for("erp").connect() as conn:
    twice = query(conn, "erp/cash_receipts_posted_twice").scalar()
print(json.dumps({{"integrity": Lake.configured().integrity({day!r}), "payments_posted_twice": twice}}))
"""
    probe = json.loads(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    )
    open_files = {s: n for s, n in on_cluster.get("files_by_state", {}).items() if s not in ("posted", "quarantined")}
    return {
        "dag_runs_failed": [r["dag_id"] for r in on_cluster["dag_runs"] if not r["success"]],
        "differences": cluster.differences(embedded, on_cluster),
        "lake_digests_equal": on_cluster["cluster"]["lake_digests"] == cluster.lake_digests(embedded_env, day),
        "journals_balance": on_cluster["journal_debits"] == on_cluster["journal_credits"],
        "payments_posted_twice": probe["payments_posted_twice"],
        "manifests_missing_objects": probe["integrity"]["missing"],
        "objects_without_manifest": probe["integrity"]["orphans"],
        "files_not_ended": open_files,
    }


def passed(result: dict) -> bool:
    c = result["checks"]
    return (
        not c["dag_runs_failed"]
        and not c["differences"]
        and c["lake_digests_equal"]
        and c["journals_balance"]
        and c["payments_posted_twice"] == 0
        and not c["manifests_missing_objects"]
        and not c["objects_without_manifest"]
        and not c["files_not_ended"]
    )


def run_json(args: list[str], env: dict[str, str], timeout: float) -> dict:
    proc = subprocess.run([*REVCYCLE, *args, "--json"], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"revcycle {' '.join(args)} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def trial(
    fault: Fault,
    day: dt.date,
    claims: int,
    seed: int,
    embedded_env: dict[str, str],
    caller_env: dict[str, str],
    echo: Echo,
    timeout: float = 1800,
) -> dict:
    """One business day on the cluster with ``fault`` injected, and the embedded run of the same day."""
    day_args = ["run-day", "--date", day.isoformat(), "--claims", str(claims), "--seed", str(seed)]
    embedded = run_json(day_args, embedded_env, timeout)
    state = cluster.load_state()
    out: dict = {}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out["result"] = run_json([*day_args, "--on", "cluster"], caller_env, timeout)
        except BaseException as exc:  # noqa: BLE001 - reported with the trial
            errors.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    runner.start()
    ti = _running_task(state, fault.phase, lambda: not runner.is_alive())
    row = {"fault": fault.name, "day": day.isoformat(), "injected": ti is not None}
    if ti is not None:
        row["task"] = f"{ti['dag_id']}.{ti['task_id']}[{ti.get('map_index', -1)}]"
        injected = time.monotonic()
        row["hit"] = fault.inject(state, ti)
        echo(f"  {fault.name}: hit {row['hit']} while {row['task']} ran ({injected - started:.1f}s into the day)")
        time.sleep(fault.downtime)
        row["restarted"] = cluster.heal(echo)
        row["seconds_down"] = round(time.monotonic() - injected, 1)
        # As a supervisor (systemd, Kubernetes) would: whatever dies of the fault later (a scheduler that lost
        # its database a moment after the restart) is started again while the day runs.
        while runner.is_alive():
            runner.join(5)
            row["restarted"] += cluster.heal(echo)
    runner.join(timeout)
    if errors:
        raise errors[0]
    row["seconds_day"] = round(time.monotonic() - started, 1)
    if ti is not None:
        row["seconds_to_recover"] = round(time.monotonic() - injected, 1)
    row["checks"] = checks(embedded, out["result"], embedded_env, day.isoformat())
    row["passed"] = passed(row)
    return row


def environments(work: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The settings of the three parties to a comparison: this caller (which drives the running cluster), the
    embedded home under ``work`` that runs the same days, and the cluster's own processes."""
    state = cluster.load_state()
    if not state:
        raise RuntimeError("the cluster is not running: revcycle cluster up --fresh")
    caller, on_cluster = child_env(("AIRFLOW",)), cluster.cluster_env(state)
    embedded = {**caller, "REVCYCLE_HOME": str(work / "embedded"), "REVCYCLE_DAY_LANES": "2"}
    embedded.pop("REVCYCLE_CLUSTER_HOME", None)
    # The cluster's PHI tokens come from its own secrets; the embedded home uses the same key.
    embedded["REVCYCLE_TOKEN_KEY"] = on_cluster["REVCYCLE_TOKEN_KEY"]
    # The cluster's days are all X12/HL7 (its run-day starts no FHIR payer): the embedded days too.
    embedded["REVCYCLE_FHIR_PAYERS"] = ""
    embedded["REVCYCLE_FHIR_EHR_SHARE"] = "0"
    return caller, embedded, on_cluster


def run_matrix(
    faults: list[str],
    trials: int,
    claims: int,
    seed: int,
    first_day: dt.date,
    work: Path,
    echo: Echo,
) -> list[dict]:
    """Each fault ``trials`` times, one business day each (consecutive days from ``first_day``), on the running
    cluster, against an embedded home under ``work`` that runs the same days in the same order."""
    base, embedded_env, _ = environments(work)
    rows, day = [], first_day
    for n in range(trials):
        for name in faults:
            echo(f"[trial {n + 1}/{trials}] {name} on {day} ...")
            row = trial(FAULTS[name], day, claims, seed, embedded_env, base, echo)
            echo(f"  {'survived' if row['passed'] else 'FAILED'}: {json.dumps(row['checks'], default=str)[:400]}")
            rows.append(row)
            day += dt.timedelta(days=1)
    return rows


def table(rows: list[dict]) -> str:
    """The fault matrix as Markdown: per fault, trials, injected, survived, lost, seconds to recover."""
    lines = [
        "| fault | trials | injected | survived | lost | seconds to recover (day end after the fault) |",
        "|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["fault"] for r in rows):
        mine = [r for r in rows if r["fault"] == name]
        hit = [r for r in mine if r["injected"]]
        lost = sum(len(r["checks"]["files_not_ended"]) + r["checks"]["payments_posted_twice"] for r in mine)
        recover = ", ".join(f"{r['seconds_to_recover']:.0f}" for r in hit) or "-"
        lines.append(
            f"| {FAULTS[name].what} | {len(mine)} | {len(hit)} | {sum(r['passed'] for r in mine)} | {lost} | {recover} |"
        )
    return "\n".join(lines)
