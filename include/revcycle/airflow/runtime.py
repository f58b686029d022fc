"""The embedded Airflow runtime: an Airflow home inside the project, DAGs run through Airflow itself.

``run_day`` is what the README's main command does: prepare the Airflow home
(SQLite metadata, examples off, dags/ and plugins/ from the repo, small
parallelism), generate a synthetic business day, run every DAG of the project
for that day with ``airflow dags test`` (the real scheduler-less runner), and
summarise what happened from the ledger and the ERP.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from revcycle.domain.decimals import cents
from revcycle.jobs import work_queue
from revcycle.settings import DAGS_DIR, IN_CHECKOUT, PLUGINS_DIR, PROJECT_ROOT, airflow_connection, get_settings

# Every DAG file of dags/ by dependency wave: the DAGs of one wave do not read what another DAG of the same
# wave writes, and each wave waits for the one before (the 276s are answered between waves 2 and 3).
# run-day runs a wave's DAGs side by side (``REVCYCLE_DAY_LANES``), the cluster triggers them together.
WAVES = (
    (
        "billing_open_items",
        "remittance",
        "fhir_remittance",
        "bank_deposits",
        "claim_status",
        "fhir_claim_status",
        "supply_usage",
        "fhir_supply_usage",
    ),
    ("claim_status_inquiry", "supplier_invoices"),
    ("payer_acks",),
    ("reconciliation",),
)
# The order a business day runs them in one lane (a test keeps this complete).
RUN_ORDER = tuple(dag_id for wave in WAVES for dag_id in wave)


def child_env(drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment, passed on whole to a child process, less the variables whose names start
    with one of ``drop`` (settings are read in revcycle.settings only; a child reads its own)."""
    return {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}


def airflow_env(home: Path | None = None) -> dict[str, str]:
    s = get_settings()
    af_home = home or s.home / "airflow"
    env = child_env()
    env.update(
        {
            "AIRFLOW_HOME": str(af_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
            # run-day runs DAGs side by side: a writer waits for the other's lock (WAL, see ensure_airflow_home).
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af_home / 'airflow.db'}?timeout=60",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af_home / "logs"),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "revcycle",
            "AIRFLOW__OPENLINEAGE__EXTRACTORS": "revcycle.airflow.lineage_extractor.RevcycleExtractor",
            # dag.test() in Airflow 3.3.2 crashes after a DAG with deadline= succeeds; deadlines are for the scheduler.
            "REVCYCLE_DEADLINES": "off",
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(s.lineage_file), "append": True}
            ),
            "REVCYCLE_HOME": str(s.home),
        }
    )
    # Arrow's allocator, chosen before any task imports pyarrow (revcycle.sources.x12_parse chooses it too, but
    # only once pyarrow has allocated): the C library's, which keeps a columnar 835's working memory lower.
    env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    # The work queue's people sign in to the UI as themselves (passwords generated into the Airflow home).
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", work_queue.airflow_users())
    # `airflow standalone` starts its components as `airflow ...` from PATH: put this venv first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if IN_CHECKOUT:  # airflow_local_settings.py (preload) sits in include/; a wheel installs it as a module
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT / "include"), env.get("PYTHONPATH", "")) if p)
    return env


def _airflow_bin() -> list[str]:
    """Airflow's command for this interpreter: its script beside it, else ``python -m airflow``."""
    candidate = Path(sys.executable).with_name("airflow")
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", "airflow"]


def ensure_airflow_home(env: dict[str, str], echo: Callable[[str], None]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    # Two commands on a fresh home (run-day, airflow standalone) would both migrate the same SQLite file:
    # the first migrates under the lock, the other waits and finds the marker.
    with open(home / ".migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            echo(f"preparing Airflow home {home} (SQLite metadata) ...")
            subprocess.run([*_airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
            marker.write_text("ok\n")
    # Airflow's simple auth manager writes the UI passwords it generates with open("a+"), under the umask
    # (0644): made here first, the owner's only, it keeps that mode.
    passwords = home / "simple_auth_manager_passwords.json.generated"
    os.close(os.open(passwords, os.O_WRONLY | os.O_CREAT, 0o600))
    passwords.chmod(0o600)
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if url.startswith("sqlite:///"):
        # Write-ahead logging, kept in the file: DAG processes running side by side read while one writes.
        import sqlite3

        with closing(sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0], timeout=60)) as db:
            if db.execute("pragma journal_mode").fetchone()[0] != "wal":
                db.execute("pragma journal_mode=wal")


def _dag_log(log_dir: Path, dag_id: str) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir / f"{dag_id}.log"


def run_dag(dag_id: str, day: dt.date, env: dict[str, str], log_dir: Path) -> tuple[bool, float, Path]:
    """One DAG run for the business day through ``airflow dags test``; its log kept on disk."""
    log_path = _dag_log(log_dir, dag_id)
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [*_airflow_bin(), "dags", "test", dag_id, day.isoformat()], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return proc.returncode == 0, time.monotonic() - start, log_path


class WarmRunner:
    """``revcycle.airflow.dag_runner`` in a child process: Airflow and GX imported once, a fork per DAG.

    It starts loading at once; ``preload_seconds`` (and the first ``start``) wait until it is ready, so a
    caller can do other work meanwhile (run-day generates the day while the runner loads).
    """

    def __init__(self, env: dict[str, str], log: Path) -> None:
        # What Airflow and the libraries log while loading (GX alone writes ~200 INFO lines) goes to ``log``,
        # never to the operator's terminal, which shows our progress and summary only.
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "revcycle.airflow.dag_runner"],
                env=env,
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self._preload_seconds: float | None = None
        self._logs: dict[str, Path] = {}

    @property
    def preload_seconds(self) -> float:
        """Seconds the runner spent importing GX; waits for the runner to be ready."""
        if self._preload_seconds is None:
            assert self.proc.stdout is not None
            ready = self.proc.stdout.readline().rstrip("\n").split("\t")
            if ready[0] != "ready":
                self.close()
                raise RuntimeError(f"the DAG runner did not start: see {self.log}")
            self._preload_seconds = float(ready[1])
        return self._preload_seconds

    def start(self, dag_id: str, day: dt.date, log_dir: Path) -> Path:
        """Fork a process for the DAG's run now; ``next_done`` tells when it ends."""
        self.preload_seconds  # noqa: B018 - ready first
        log_path = self._logs[dag_id] = _dag_log(log_dir, dag_id)
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{dag_id}\t{day.isoformat()}\t{log_path}\n")
        self.proc.stdin.flush()
        return log_path

    def next_done(self) -> tuple[str, bool, float, Path]:
        """The next DAG run to end: (dag_id, success, seconds, log)."""
        assert self.proc.stdout is not None
        answer = self.proc.stdout.readline().rstrip("\n").split("\t")
        if len(answer) != 3:
            raise RuntimeError(f"the DAG runner stopped while running {', '.join(self._logs)} (log {self.log})")
        dag_id, code, seconds = answer
        return dag_id, code == "0", float(seconds), self._logs.pop(dag_id)

    def run(self, dag_id: str, day: dt.date, log_dir: Path) -> tuple[bool, float, Path]:
        """One DAG run, waited for (nothing else may be running)."""
        self.start(dag_id, day, log_dir)
        _, ok, seconds, log_path = self.next_done()
        return ok, seconds, log_path

    def close(self) -> None:
        if self._preload_seconds is None:  # never used (nothing to run): no need to let it finish loading
            self.proc.terminate()
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _open_runner(day: dt.date, echo: Callable[[str], None]) -> tuple[dict[str, str], WarmRunner | None]:
    """The Airflow home made ready and, where processes can fork, a warm runner loading (not waited for)."""
    env = airflow_env()
    ensure_airflow_home(env, echo)
    log = get_settings().home / "logs" / day.isoformat() / "dag_runner.log"
    return env, (WarmRunner(env, log) if hasattr(os, "fork") else None)


def run_day(
    day: dt.date, claims: int, seed: int, generate: bool, echo: Callable[[str], None], mixed: bool = False
) -> dict:
    s = get_settings()
    s.ensure_dirs()
    if not generate and (idle := nothing_to_run(day)):
        return idle
    with ExitStack() as stack:
        if generate and s.fhir_payers:
            stack.enter_context(synthetic_fhir_payer(echo))
        if generate and s.fhir_ehr_share > 0:
            stack.enter_context(synthetic_fhir_ehr(echo))
        # The runner loads Airflow and GX in its own process while this one generates the day.
        started = time.perf_counter()
        env, runner = _open_runner(day, echo)
        opened = time.perf_counter()
        try:
            if generate and (
                idle := generate_then_check(day, claims, seed, generate, echo, mixed, s.fhir_payers, s.fhir_ehr_share)
            ):
                return idle
            generated = time.perf_counter()
            summary = replay_day(day, echo, simulate_payers=generate, opened=(env, runner))
            summary["timings"] = {
                "open_runner": round(opened - started, 3),
                "generate": round(generated - opened, 3),
                **summary.get("timings", {}),
            }
            return summary
        finally:
            if runner:
                runner.close()


@contextmanager
def synthetic_fhir_payer(echo: Callable[[str], None]) -> Iterator[None]:
    """The synthetic FHIR payers' Bulk Data server on loopback for this run, and the Airflow connection to it
    (SMART backend services with this home's client key) in the environment the DAG runs inherit."""
    s = get_settings()
    with _synthetic_fhir_server("fhir_payer", s.fhir_conn_id) as url:
        echo(f"synthetic FHIR payer(s) {', '.join(s.fhir_payers)}: Bulk Data $export at {url}")
        yield


@contextmanager
def synthetic_fhir_ehr(echo: Callable[[str], None]) -> Iterator[None]:
    """The synthetic EHR's Bulk Data server (the OR's supply charges), as the payers' is served."""
    with _synthetic_fhir_server("fhir_ehr", get_settings().fhir_ehr_conn_id) as url:
        echo(f"synthetic FHIR EHR: Bulk Data $export at {url}")
        yield


@contextmanager
def _synthetic_fhir_server(store: str, conn_id: str) -> Iterator[str]:
    from revcycle.synthetic.fhir_server import Behaviour, fhir_server, public_key_of

    s = get_settings()
    key = client_key()
    # The export is made at once: its status answers 202 with ``Retry-After: 0`` once (the client still polls)
    # rather than sending each of the day's three FHIR land tasks to sleep a second for nothing.
    behaviour = Behaviour(retry_after=0)
    tls = s.home / "secrets" / f"{store}_tls"
    with (
        fhir_server(s.inbound / store, public_key_of(key), tls, behaviour) as server,
        airflow_connection(conn_id, server.connection(key, "ES384")),
    ):
        yield server.base_url


def client_key() -> str:
    """This home's SMART client key (ES384), made once on first use like the token key."""
    from revcycle.domain.first_use import create_once
    from revcycle.synthetic.fhir_server import new_private_key

    def problem(data: bytes) -> str | None:
        return None if data.startswith(b"-----BEGIN PRIVATE KEY-----") else "not a PEM private key"

    path = get_settings().home / "secrets" / "fhir_client_es384.pem"
    return create_once(path, lambda: new_private_key("ES384").encode(), problem).decode()


def generate_then_check(
    day: dt.date,
    claims: int,
    seed: int,
    generate: bool,
    echo: Callable[[str], None],
    mixed: bool = False,
    fhir_payers: tuple[str, ...] = (),
    fhir_ehr_share: float = 0.0,
) -> dict | None:
    """Generate the day into the inbound folders when asked (``mixed``: with the trouble of real days,
    revcycle.synthetic.mixed); then ``nothing_to_run``'s answer."""
    if generate:
        from revcycle.synthetic.day import generate_day

        inbound = get_settings().inbound
        echo(f"generating business day {day} ({claims} claims, seed {seed}) into {inbound} ...")
        manifest = generate_day(inbound, day, claims, seed, fhir_payers=fhir_payers, fhir_ehr_share=fhir_ehr_share)
        if mixed:
            from revcycle.synthetic.mixed import add_trouble

            trouble = add_trouble(inbound, day, manifest)
            echo(
                f"mixed day: {len(trouble['malformed'])} malformed, {len(trouble['resent'])} re-sent, "
                f"{len(trouble['duplicate_payment'])} duplicate payment, {len(trouble['late'])} late file(s)"
            )
    return nothing_to_run(day)


def nothing_to_run(day: dt.date) -> dict | None:
    """The day's summary, saying why nothing was run, when no inbound file is new and no file has work left;
    None when a run has work (or cannot tell: a remote inbound).  Nine DAGs are not run on nothing."""
    from revcycle.adapters import ledger
    from revcycle.pipeline.steps import work_waiting
    from revcycle.pipeline.summary import run_effect
    from revcycle.sources.registry import sources

    if work_waiting(sources()) != 0:
        return None
    rows, inbound = ledger.for_day(day), get_settings().inbound
    summary = day_summary(day)
    summary["dag_runs"] = []
    summary["this_run"] = run_effect(rows, rows)
    summary["nothing_run"] = (
        f"no data for {day}: no new file in {inbound} and none recorded for the day; nothing was run "
        f"(revcycle replay --date {day} runs every DAG anyway)"
        if not rows
        else f"nothing new for {day}: every file in {inbound} is in the ledger already; nothing was run "
        f"(revcycle replay --date {day} processes the day again)"
    )
    return summary


def reset_targets() -> tuple[list[Path], list[str]]:
    """What ``revcycle reset`` removes: the existing working folders and SQLite files of this home (and its
    Airflow home, logs and PHI-token key); and what it leaves, said: server databases and object storage."""
    from sqlalchemy.engine import make_url

    from revcycle.adapters.db import database_url

    s = get_settings()
    candidates = [
        s.inbound,
        s.raw_zone,
        s.lake,
        s.quarantine,
        s.outbound,
        s.reports,
        s.lineage_file.parent,
        s.exchange,
        s.home / "logs",
        s.home / "airflow",
    ]
    untouched = []
    for schema in ("erp", "ops"):
        url = make_url(database_url(schema))
        if url.get_backend_name() == "sqlite" and url.database:
            candidates += [Path(url.database + suffix) for suffix in ("", "-wal", "-shm")]
        else:
            untouched.append(f"the {schema} database {url.render_as_string(hide_password=True)} (drop it yourself)")
    if not untouched:  # the PHI-token key goes only with every database that holds tokens made with it
        candidates.append(s.home / "secrets")
    if s.storage_url or s.raw_zone_url or s.lake_url:
        untouched.append(f"object storage {s.storage_url or s.raw_root} (clear the bucket yourself)")
    seen, targets = set(), []
    for path in candidates:
        if path.exists() and path not in seen:
            seen.add(path)
            targets.append(path)
    return targets, untouched


def _payers_answer(day: dt.date, echo: Callable[[str], None]) -> None:
    """Synthetic day only: the generator plays the payers and answers the 276s just uploaded with 999s."""
    from revcycle.synthetic.payer import answer_inquiries

    s = get_settings()
    acks = answer_inquiries(s.exchange, s.inbound / "acks", day)
    echo(f"synthetic payers answered {len(acks)} 276 file(s) with 999s into {s.inbound / 'acks'}")


def replay_day(
    day: dt.date,
    echo: Callable[[str], None],
    simulate_payers: bool = False,
    opened: tuple[dict[str, str], WarmRunner | None] | None = None,
) -> dict:
    """Run every DAG of the project for the day, wave by wave, and summarise (no generation).

    With a warm runner the DAGs of a wave run side by side, ``day_lanes`` at a time, each in its own forked
    process; without one (no ``fork``) one after another.  A wave's results are shown in the wave's order
    as they become known, so the output reads the same whichever DAG ends first.
    """
    from revcycle.adapters import ledger
    from revcycle.pipeline.summary import run_effect

    s = get_settings()
    s.ensure_dirs()
    before = ledger.for_day(day)
    env, runner = opened or _open_runner(day, echo)
    log_dir = s.home / "logs" / day.isoformat()
    lanes = s.day_lanes if runner else 1
    results = []
    timings: dict[str, float] = {}
    try:
        if runner:
            waiting = time.perf_counter()
            echo(
                f"Airflow and Great Expectations loaded once ({runner.preload_seconds:.1f}s for GX); "
                "each DAG runs in a process forked from them"
            )
            timings["runner_ready_wait"] = round(time.perf_counter() - waiting, 3)
        for w, wave in enumerate(WAVES, start=1):
            wave_started = time.perf_counter()
            at_once = f", {min(lanes, len(wave))} at a time" if min(lanes, len(wave)) > 1 else ""
            echo(f"[wave {w}/{len(WAVES)}] {', '.join(wave)}: running through Airflow{at_once} ...")
            ended, shown = {}, 0
            for dag_id, ok, seconds, log_path in _run_wave(wave, lanes, runner, day, env, log_dir):
                ended[dag_id] = {"dag_id": dag_id, "success": ok, "seconds": round(seconds, 1), "log": str(log_path)}
                while shown < len(wave) and wave[shown] in ended:  # in the wave's order, as soon as known
                    r = ended[wave[shown]]
                    shown += 1
                    results.append(r)
                    echo(
                        f"[{len(results)}/{len(RUN_ORDER)}] {r['dag_id']}: {'success' if r['success'] else 'FAILED'} "
                        f"in {r['seconds']:.1f}s (log {r['log']})"
                    )
            timings[f"wave_{w}"] = round(time.perf_counter() - wave_started, 3)
            if simulate_payers and "claim_status_inquiry" in wave and ended["claim_status_inquiry"]["success"]:
                answered = time.perf_counter()
                _payers_answer(day, echo)
                timings["payers_answer"] = round(time.perf_counter() - answered, 3)
    finally:
        if runner and not opened:
            runner.close()
    from revcycle.jobs.audit import build

    at = time.perf_counter()
    audit_index = build(day)
    timings["audit"] = round(time.perf_counter() - at, 3)
    at = time.perf_counter()
    summary = day_summary(day)
    timings["summary"] = round(time.perf_counter() - at, 3)
    summary["timings"] = timings  # seconds of each part of the run (bench/run.py's table of a day)
    summary["outputs"]["audit_report"] = str(audit_index)
    summary["dag_runs"] = results
    summary["this_run"] = run_effect(before, ledger.for_day(day))
    summary["gx_preload_seconds"] = round(runner.preload_seconds, 3) if runner else None
    return summary


def _run_wave(wave, lanes, runner, day, env, log_dir):
    """Yield (dag_id, success, seconds, log) for each DAG of the wave as it ends, ``lanes`` running at once."""
    if runner is None:
        for dag_id in wave:
            yield (dag_id, *run_dag(dag_id, day, env, log_dir))
        return
    waiting, running = list(wave), 0
    while waiting or running:
        while waiting and running < lanes:
            runner.start(waiting.pop(0), day, log_dir)
            running += 1
        yield runner.next_done()
        running -= 1


def day_summary(day: dt.date) -> dict:
    """What a business day produced, from the ledger and the ERP (counts and totals only)."""

    from revcycle.adapters import ledger
    from revcycle.adapters.db import database_url, engine_for, query
    from revcycle.adapters.objectstore import kept_location as kept
    from revcycle.jobs import inquiries, reconciliation, sla

    s = get_settings()
    rows = ledger.for_day(day)
    by_state: dict[str, int] = {}
    quarantined = []
    published = 0
    for r in rows:
        by_state[r["state"]] = by_state.get(r["state"], 0) + 1
        if r["state"] == "quarantined":
            quarantined.append({"file": r["original_name"], "source": r["source"], "reason": r["reason"]})
        if r["state"] == "posted" and r["row_counts"]:
            counts = json.loads(r["row_counts"])
            published += sum(v for k, v in counts.items() if k.startswith("canonical__"))
    files_by_source: dict[str, int] = {}
    for r in rows:
        files_by_source[r["source"]] = files_by_source.get(r["source"], 0) + 1
    with engine_for("erp").connect() as conn:
        posted = query(conn, "erp/day_posted", {"business_date": day}).mappings().first()
        statuses = query(conn, "erp/day_claim_status", {"business_date": day}).mappings().first()
        supply = query(conn, "erp/day_supply", {"business_date": day}).mappings().first()
    queue = reconciliation.queue_movements(day)
    return {
        "business_date": day.isoformat(),
        "files_in": len(rows),
        "files_by_source": files_by_source,
        "files_by_state": by_state,
        "rows_published": published,
        "receipts_posted": int(posted["receipts"] or 0),
        "amount_posted": str(cents(posted["amount"] or 0)),
        "journal_debits": str(cents(posted["debits"] or 0)),
        "journal_credits": str(cents(posted["credits"] or 0)),
        "claim_status_events": int(statuses["events"] or 0),
        "claims_with_status": int(statuses["claims"] or 0),
        "claims_final": int(statuses["final_claims"] or 0),
        "supply": {
            "usage_lines_posted": int(supply["usage_lines"] or 0),
            "usage_cost": str(cents(supply["usage_cost"] or 0)),
            "replenishment_requests": int(supply["replenishments"] or 0),
            "invoice_lines_matched": int(supply["matched"] or 0),
            "invoice_exceptions": int(supply["exceptions"] or 0),
        },
        "exceptions_open": queue["open_by_owner"],
        # This day's movements of the queue, apart from the queue as a whole (which spans every day).
        "exceptions_today": {"new": queue["new"], "closed": queue["closed"]},
        "inquiries_276": {"files": len(inquiries.outbound_files(day)), **inquiries.status(day)},
        "quarantined": quarantined,
        "sla_breaches": sla.breaches_for_day(day),
        "outputs": {
            "lake": s.lake_root,
            "raw_zone": s.raw_root,
            "erp_database": database_url("erp"),
            "ops_database": database_url("ops"),
            "reports": kept(s.reports),
            "acknowledgements": kept(s.outbound / "acks"),
            "supply_exceptions": kept(s.reports / "supply_match" / day.isoformat() / "exceptions.csv"),
            "payer_exchange": str(s.exchange),
            "finance_extracts": kept(s.outbound / "finance" / day.isoformat()),
            "quarantine": kept(s.quarantine),
            "lineage_log": str(s.lineage_file),
        },
    }
