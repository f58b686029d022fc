"""A real distributed Airflow on this machine: ``revcycle cluster up|down|status`` and ``run-day --on cluster``.

What ``up`` starts, each a process group of its own whose PID is kept in ``<home>/cluster/state.json``:

- SeaweedFS (S3): bucket ``revcycle`` holds every file the pipeline keeps (raw zone, lake, quarantine,
  acknowledgements, reports, finance extracts), so no disk is shared between workers; its keys reach the tasks only as the
  Airflow connection ``revcycle_lake`` (``AIRFLOW_CONN_REVCYCLE_LAKE``);
- ``airflow api-server`` (REST API, UI, and the execution API the workers' tasks talk to);
- ``airflow scheduler``, ``airflow dag-processor``, ``airflow triggerer``;
- two ``airflow celery worker`` processes with distinct ``--celery-hostname`` (CeleryExecutor).

It uses the servers already running here: PostgreSQL (``REVCYCLE_CLUSTER_PG``; a metadata database
``<name>_airflow`` and an ERP/ops database ``<name>`` of their own, ``REVCYCLE_CLUSTER_NAME`` default
``revcycle_cluster``) and Redis
(``REVCYCLE_CLUSTER_REDIS``, a db number of its own) as the Celery broker.  Generated secrets (the JWT secret
every component shares, the API user's password, the S3 keys, the PHI token key) live in
``<home>/cluster/secrets.json``, readable by the owner only; none is in code.

``run_day`` generates a business day into the cluster's inbound folder, then triggers the DAGs through
the REST API in dependency waves (DAGs of one wave run in parallel on both workers), answers the 276s as
the synthetic payers, and summarises from the cluster's ERP exactly as the embedded run does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import psutil

from revcycle.airflow import s3server
from revcycle.airflow.runtime import WAVES, _airflow_bin, airflow_env
from revcycle.domain.first_use import create_once, write_private_atomic
from revcycle.settings import get_settings, token_key, use_environment

# The servers are read from the settings when the module loads; the cluster's databases are named after it
# (REVCYCLE_CLUSTER_NAME), so a test cluster never touches yours.
_S = get_settings()
PG, REDIS = _S.cluster_pg, _S.cluster_redis
METADATA_DB, DATA_DB = f"{_S.cluster_name}_airflow", _S.cluster_name
BUCKET = "revcycle"
WORKERS = tuple(f"worker{n}" for n in range(1, _S.cluster_workers + 1))  # REVCYCLE_CLUSTER_WORKERS, default 2
API_USER = "revcycle"

# What a day on the cluster and the embedded run of the same day and seed must agree on: everything the day
# produced, never how long it took or where it lives.
COMPARED = (
    "files_in",
    "files_by_source",
    "files_by_state",
    "rows_published",
    "receipts_posted",
    "amount_posted",
    "journal_debits",
    "journal_credits",
    "claim_status_events",
    "claims_with_status",
    "claims_final",
    "inquiries_276",
    "supply",
    "exceptions_open",
    "exceptions_today",
    "quarantined",
)


def differences(embedded: dict, on_cluster: dict) -> dict[str, tuple]:
    """The summary fields where two runs of one day differ (empty when they agree)."""
    return {k: (embedded.get(k), on_cluster.get(k)) for k in COMPARED if embedded.get(k) != on_cluster.get(k)}


def lake_digests(env: dict[str, str], day: str) -> dict[str, str]:
    """``Lake.digests`` of a day in the revcycle home ``env`` names, read in a child process so this
    process's settings stay as they are (what a run on the cluster is compared by)."""
    code = (
        f"import json; from revcycle.adapters.lake import Lake; print(json.dumps(Lake.configured().digests({day!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@lru_cache(maxsize=1)
def cluster_dir() -> Path:
    """The cluster's own folder (state, secrets, logs, Airflow home, S3 data, its revcycle home), fixed on first
    use: ``REVCYCLE_CLUSTER_HOME``, else ``cluster/`` in the caller's revcycle home."""
    return Path(get_settings().cluster_home or get_settings().home / "cluster").resolve()


def _state_file() -> Path:
    return cluster_dir() / "state.json"


SECRET_NAMES = ("jwt_secret", "api_password", "s3_access_key", "s3_secret_key", "token_key")


def _secrets() -> dict[str, str]:
    """The cluster's generated secrets, made once by whichever process asks first (``cluster up`` and a
    ``run-day --on cluster`` started together get the same ones; first_use.create_once)."""

    def make() -> bytes:
        values = {
            "jwt_secret": secrets.token_urlsafe(64),
            "api_password": secrets.token_urlsafe(24),
            "s3_access_key": "revcycle",
            "s3_secret_key": secrets.token_urlsafe(24),
            "token_key": token_key() or secrets.token_urlsafe(32),
        }
        return json.dumps(values).encode()

    return json.loads(create_once(cluster_dir() / "secrets.json", make, _secrets_problem))


def _secrets_problem(data: bytes) -> str | None:
    try:
        values = json.loads(data)
    except ValueError:
        return "not JSON"
    missing = [n for n in SECRET_NAMES if not isinstance(values, dict) or not values.get(n)]
    return f"no {', '.join(missing)}" if missing else None


def _db_url(name: str, driver: str = "postgresql+psycopg") -> str:
    return f"{PG.replace('postgresql://', driver + '://', 1).rstrip('/')}/{name}"


def cluster_env(state: dict) -> dict[str, str]:
    """Every setting a cluster process (and ``run-day --on cluster`` itself) runs with."""
    sec = _secrets()
    home = cluster_dir()
    env = airflow_env(home / "airflow")
    env.update(
        {
            "REVCYCLE_HOME": str(home / "home"),
            "REVCYCLE_ERP_URL": _db_url(DATA_DB),
            "REVCYCLE_OPS_URL": _db_url(DATA_DB),
            # One bucket for every file kept: raw zone, lake, quarantine, acknowledgements, reports, extracts.
            "REVCYCLE_STORAGE_URL": f"s3://{BUCKET}",
            "REVCYCLE_STORAGE_CONN_ID": "revcycle_lake",
            "AIRFLOW_CONN_REVCYCLE_LAKE": json.dumps(
                {
                    "conn_type": "aws",
                    "login": sec["s3_access_key"],
                    "password": sec["s3_secret_key"],
                    "extra": {"endpoint_url": state["s3_url"], "region_name": "us-east-1"},
                }
            ),
            "REVCYCLE_TOKEN_KEY": sec["token_key"],
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(home / "home" / "lineage" / "events.jsonl"), "append": True}
            ),
            # Runs come from triggers (a chosen business day), never from the clock: no catch-up of past days.
            "REVCYCLE_SCHEDULES": "off",
            "REVCYCLE_DEADLINES": "on",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "8",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _db_url(METADATA_DB, "postgresql+psycopg2"),
            "AIRFLOW__CELERY__BROKER_URL": REDIS,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + _db_url(METADATA_DB, "postgresql+psycopg2"),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(state["api_port"]),
            "AIRFLOW__API__BASE_URL": state["api_url"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": state["api_url"] + "/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": sec["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": sec["jwt_secret"][:32],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "airflow" / "passwords.json"),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "revcycle.airflow.cluster.worker_name",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # A task whose worker died is found within 90 s (default 300), one lost with the broker's queue
            # (Redis keeps nothing on restart here) is queued again after 120 s (default 600), and a failed
            # try is retried after 20 s: recovery from a fault takes minutes, not a quarter of an hour.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "90",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
            "REVCYCLE_RETRY_DELAY_SECONDS": "20",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(state["log_port"]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(state["trigger_log_port"]),
        }
    )
    return env


def worker_name() -> str:
    """The hostname Airflow records for a task instance: the worker's name on the cluster (both workers
    share this machine, so the machine's name would not tell them apart)."""
    from airflow.utils.net import getfqdn

    return get_settings().worker_name or getfqdn()


def load_state() -> dict | None:
    path = _state_file()
    return json.loads(path.read_text()) if path.exists() else None


def _alive(pid: int) -> bool:
    """The component's process is running.  A zombie is not: a component this process restarted (``heal``
    during a chaos trial) and that died since is its unreaped child, and a process group whose leader is a
    zombie still answers signal 0; seen as alive, a scheduler killed by a PostgreSQL restart was never started
    again and the day waited forever.  Our own dead child is reaped here."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: its parent reaps it
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # the leader is gone but its group runs on, or no /proc: as before
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _check_servers() -> None:
    import psycopg
    import redis

    try:
        psycopg.connect(f"{PG.rstrip('/')}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"no PostgreSQL answers at {PG} (set REVCYCLE_CLUSTER_PG): {type(exc).__name__}") from None
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"no Redis answers at {REDIS} (set REVCYCLE_CLUSTER_REDIS): {type(exc).__name__}") from None


def _create_databases(fresh: bool) -> None:
    import psycopg

    with psycopg.connect(f"{PG.rstrip('/')}/postgres", autocommit=True) as admin:
        for name in (METADATA_DB, DATA_DB):
            if fresh:
                admin.execute(f'drop database if exists "{name}" with (force)')
            if not admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
                admin.execute(f'create database "{name}"')


def _spawn(name: str, args: list[str], env: dict[str, str]) -> int:
    logs = cluster_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc.pid


def _wait(what: str, ready: Callable[[], bool], timeout: float, pids: dict[str, int]) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [n for n, pid in pids.items() if not _alive(pid)]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} stopped while waiting for {what}: see {cluster_dir() / 'logs'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}: see {cluster_dir() / 'logs'}")
        time.sleep(1)


def up(echo: Callable[[str], None], fresh: bool = False, timeout: float = 300) -> dict:
    """Start the cluster (``fresh``: from empty databases, bucket and folders) and wait until it serves."""
    state = load_state()
    if state and any(_alive(pid) for pid in state["pids"].values()):
        raise RuntimeError("the cluster is running already (revcycle cluster status; revcycle cluster down)")
    _check_servers()
    if fresh:
        wipe()
    home = cluster_dir()
    home.mkdir(parents=True, exist_ok=True)
    sec = _secrets()
    _create_databases(fresh=False)
    echo("starting SeaweedFS (S3) ...")
    s3 = s3server.start(home / "s3", sec["s3_access_key"], sec["s3_secret_key"])
    api_port, log_port, trigger_log_port = s3server.free_ports(3)
    state = {
        "pids": {"s3": s3.pid},
        "s3_url": s3.url,
        "s3_ports": s3.ports,
        "api_port": api_port,
        "api_url": f"http://127.0.0.1:{api_port}",
        "log_port": log_port,
        "trigger_log_port": trigger_log_port,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _state_file().write_text(json.dumps(state, indent=2))
    try:
        env = cluster_env(state)
        subprocess.run(
            [sys.executable, "-m", "revcycle.cli", "storage", "init"], env=env, check=True, capture_output=True
        )
        passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        write_private_atomic(passwords, json.dumps({API_USER: sec["api_password"]}).encode())
        echo("migrating the Airflow metadata database (PostgreSQL) ...")
        subprocess.run([*_airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
        for name in COMPONENTS:
            state["pids"][name] = _spawn(name, *_component(name, state, env))
        _state_file().write_text(json.dumps(state, indent=2))
        echo(f"waiting for the api-server on {state['api_url']} and the DAGs to be parsed ...")
        _wait("the api-server", lambda: _health(state) is not None, timeout, state["pids"])
        _wait("the DAGs", lambda: len(_dag_ids(state)) >= 9, timeout, state["pids"])
        _wait("the Celery workers", lambda: all(_worker_ready(w) for w in WORKERS), timeout, state["pids"])
    except BaseException:
        down(echo)
        raise
    echo(f"cluster up: API and UI {state['api_url']} (user {API_USER}, password in {cluster_dir() / 'secrets.json'})")
    return state


# Every component but the S3 server, in the order they start (workers last).
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", *WORKERS)


def _component(name: str, state: dict, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and settings a component runs with (the same at its first start and at a restart)."""
    airflow = _airflow_bin()
    if name in WORKERS:
        # As in docker-compose: the worker loads GX once; every task try forked from it starts warm.
        worker_env = {
            **env,
            "REVCYCLE_WORKER_NAME": f"revcycle-{name}",
            "REVCYCLE_PRELOAD": "revcycle.adapters.validation",
        }
        args = [*airflow, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "2"]
        if name != WORKERS[0]:  # one worker serves its task logs on the log port; all write to one log folder
            args.append("--skip-serve-logs")
        return args, worker_env
    return {
        "api-server": [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(state["api_port"])],
        "scheduler": [*airflow, "scheduler"],
        "dag-processor": [*airflow, "dag-processor"],
        "triggerer": [*airflow, "triggerer", "--skip-serve-logs"],
    }[name], env


def restart(name: str, echo: Callable[[str], None], timeout: float = 120) -> int:
    """Start one component again, as an operator would after it died or was stopped: the same command and
    settings (the S3 server on its old ports, so every client's endpoint still holds); wait until it serves.
    A component still running is left alone. Returns its pid."""
    state = load_state()
    if not state:
        raise RuntimeError("the cluster is not running: revcycle cluster up")
    if _alive(state["pids"][name]):
        return state["pids"][name]
    if name == "s3":
        sec = _secrets()
        s3 = s3server.start(
            cluster_dir() / "s3", sec["s3_access_key"], sec["s3_secret_key"], ports=state.get("s3_ports")
        )
        pid = s3.pid
    else:
        log = cluster_dir() / "logs" / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        pid = _spawn(name, *_component(name, state, cluster_env(state)))
        if name in WORKERS:
            _wait(f"{name} to be ready", lambda: _worker_ready(name, offset), timeout, {name: pid})
        elif name == "api-server":
            _wait("the api-server", lambda: _health(state) is not None, timeout, {name: pid})
    state["pids"][name] = pid
    _state_file().write_text(json.dumps(state, indent=2))
    echo(f"restarted {name} (pid {pid})")
    return pid


def heal(echo: Callable[[str], None]) -> list[str]:
    """Restart every component of the cluster that is not running (the S3 server first); return their names."""
    state = load_state() or {"pids": {}}
    dead = [n for n in ("s3", *COMPONENTS) if n in state["pids"] and not _alive(state["pids"][n])]
    for name in dead:
        restart(name, echo)
    return dead


def _worker_ready(worker: str, offset: int = 0) -> bool:
    """The worker's log says it is ready (since ``offset``: a restarted worker appends to the same log)."""
    log = cluster_dir() / "logs" / f"{worker}.log"
    if not log.exists():
        return False
    with open(log, "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    return f"{worker}@" in text and " ready." in text


def down(echo: Callable[[str], None], wipe_data: bool = False) -> list[str]:
    """Stop every process the cluster started (by PID, process group and all); ``wipe_data`` also drops its
    databases, Redis db, S3 data and folders."""
    state = load_state()
    stopped = []
    if state:
        # Workers and the scheduler first (no new work), the S3 server last.
        order = [
            n for n in (*WORKERS, "scheduler", "triggerer", "dag-processor", "api-server", "s3") if n in state["pids"]
        ]
        # Airflow starts each task try in a session of its own, outside its worker's process group: take
        # every descendant now, and kill what outlives its component's group.
        descendants = {name: _descendants(state["pids"][name]) for name in order}
        for name in order:
            if s3server.stop(state["pids"][name]):
                stopped.append(name)
            for proc in descendants[name]:
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(descendants[name], timeout=10)
        _state_file().unlink(missing_ok=True)
    echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    if wipe_data:
        wipe()
        echo("wiped the cluster's databases, broker db, S3 data and folders")
    return stopped


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wipe() -> None:
    import shutil

    import redis

    _create_databases(fresh=True)
    redis.Redis.from_url(REDIS).flushdb()
    for name in ("airflow", "home", "s3", "logs"):
        shutil.rmtree(cluster_dir() / name, ignore_errors=True)


def status() -> dict:
    state = load_state()
    if not state:
        return {"running": False, "processes": {}}
    processes = {
        name: ("running" if _alive(pid) else "stopped") + f" (pid {pid})" for name, pid in state["pids"].items()
    }
    health = _health(state)
    return {
        "running": all(p.startswith("running") for p in processes.values()),
        "api": state["api_url"],
        "s3": state["s3_url"],
        "processes": processes,
        "health": health,
        "dags": len(_dag_ids(state)) if health else None,
    }


# -- the REST API ----------------------------------------------------------------------------------------
# Seconds a REST call rides through the api-server or its metadata database restarting (5xx, refused
# connections, time-outs) before it gives up: a day on the cluster outlives a PostgreSQL restart.
PATIENCE = 180.0


def _request(
    state: dict,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    patience: float = PATIENCE,
) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        state["api_url"] + path,
        method=method,
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    deadline = time.monotonic() + patience
    while True:
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or time.monotonic() > deadline:
                raise
        except OSError:  # refused, reset, timed out: the api-server is restarting
            if time.monotonic() > deadline:
                raise
        time.sleep(2)


def _token(state: dict) -> str:
    sec = _secrets()
    return _request(state, "POST", "/auth/token", {"username": API_USER, "password": sec["api_password"]})[
        "access_token"
    ]


def _health(state: dict) -> dict | None:
    try:
        return _request(state, "GET", "/api/v2/monitor/health", patience=0)
    except (OSError, ValueError):
        return None


def _dag_ids(state: dict) -> list[str]:
    try:
        dags = _request(state, "GET", "/api/v2/dags?limit=100", token=_token(state), patience=0)["dags"]
    except (OSError, ValueError, KeyError):
        return []
    return sorted(d["dag_id"] for d in dags)


def trigger(state: dict, token: str, dag_id: str, day: dt.date, tag: str) -> str:
    _request(state, "PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token)
    run_id = f"revcycle__{day.isoformat()}__{tag}"
    body = {"dag_run_id": run_id, "logical_date": None, "conf": {"business_date": day.isoformat()}}
    try:
        _request(state, "POST", f"/api/v2/dags/{dag_id}/dagRuns", body, token)
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # 409: the run exists; an earlier try created it and its answer was lost
            raise
    return run_id


def wait_for(
    state: dict, token: str, runs: dict[str, str], echo: Callable[[str], None], timeout: float
) -> dict[str, dict]:
    """Poll the runs until each ends; return dag_id -> {state, seconds}."""
    start, done = time.monotonic(), {}
    while len(done) < len(runs):
        for dag_id, run_id in runs.items():
            if dag_id in done:
                continue
            run = _request(state, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", token=token)
            if run["state"] in ("success", "failed"):
                done[dag_id] = {"state": run["state"], "seconds": round(time.monotonic() - start, 1)}
                echo(f"  {dag_id}: {run['state']} after {done[dag_id]['seconds']}s")
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"timed out waiting for {sorted(set(runs) - set(done))}")
        if len(done) < len(runs):
            time.sleep(2)
    return done


def task_hosts(state: dict, runs: dict[str, str]) -> dict[str, int]:
    """How many task instances of these runs each worker ran (Airflow's record of the hostname)."""
    token, hosts = _token(state), {}
    for dag_id, run_id in runs.items():
        tis = _request(state, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000", token=token)
        for ti in tis["task_instances"]:
            if ti.get("hostname"):
                hosts[ti["hostname"]] = hosts.get(ti["hostname"], 0) + 1
    return hosts


def use_cluster_settings(state: dict) -> None:
    """Point this process's settings at the cluster (ERP, lake, raw zone, inbound) for generating and summing."""
    env = cluster_env(state)
    use_environment({k: v for k, v in env.items() if k.startswith(("REVCYCLE_", "AIRFLOW_CONN_"))})
    from revcycle.adapters.db import reset_engines

    reset_engines()


def run_day(
    day: dt.date,
    claims: int,
    seed: int,
    generate: bool,
    echo: Callable[[str], None],
    mixed: bool = False,
    timeout: float = 3600,
) -> dict:
    """The same business day as the embedded ``run_day``, triggered on the running cluster."""
    from revcycle.adapters import ledger
    from revcycle.airflow.runtime import day_summary, generate_then_check
    from revcycle.pipeline.summary import run_effect

    state = load_state()
    if not state or not all(_alive(pid) for pid in state["pids"].values()):
        raise RuntimeError("the cluster is not running: revcycle cluster up")
    use_cluster_settings(state)
    s = get_settings()
    s.ensure_dirs()
    idle = generate_then_check(day, claims, seed, generate, echo, mixed)
    if idle:
        return idle
    before = ledger.for_day(day)
    results, all_runs = [], {}
    tag = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")  # run ids only; no business key comes from it
    started = time.monotonic()
    for n, wave in enumerate(WAVES, start=1):
        token = _token(state)  # a fresh token for each wave
        runs = {dag_id: trigger(state, token, dag_id, day, tag) for dag_id in wave}
        echo(f"[wave {n}/{len(WAVES)}] triggered {', '.join(wave)} through the REST API ...")
        ended = wait_for(state, token, runs, echo, timeout)
        all_runs.update(runs)
        results += [
            {"dag_id": d, "success": r["state"] == "success", "seconds": r["seconds"]} for d, r in ended.items()
        ]
        if "claim_status_inquiry" in wave and ended["claim_status_inquiry"]["state"] == "success":
            from revcycle.synthetic.payer import answer_inquiries

            acks = answer_inquiries(s.exchange, s.inbound / "acks", day)
            echo(f"synthetic payers answered {len(acks)} 276 file(s) with 999s")
    from revcycle.adapters.lake import Lake
    from revcycle.jobs.audit import build

    summary = day_summary(day)
    summary["outputs"]["audit_report"] = str(build(day))
    summary["dag_runs"] = results
    summary["this_run"] = run_effect(before, ledger.for_day(day))
    summary["cluster"] = {
        "api": state["api_url"],
        "seconds": round(time.monotonic() - started, 1),
        "task_instances_by_worker": task_hosts(state, all_runs),
        "lake_digests": Lake.configured().digests(day.isoformat()),
    }
    return summary
