"""One warm Airflow process that runs ``airflow dags test`` for each DAG of a day in a forked child.

``revcycle run-day`` used to start ``airflow dags test`` afresh for each of its DAGs, so each paid
Airflow's import and, in its first validate task, Great Expectations' (about 2.5 s; bench stage 6).
This runner imports both once, then forks a child per DAG, as an Airflow worker forks each task try:
the children start warm and stay isolated from one another.  ``runtime.replay_day`` drives it over pipes:

    -> ready <seconds spent preloading GX>  (after Airflow's own warm-up, ``_warm_airflow``)
    <- <dag_id> TAB <business day> TAB <log path>      (any number, one child forked for each at once)
    -> <dag_id> TAB <exit code> TAB <seconds>          (one line per child, as it ends)

A DAG's output goes to its log file, never to the protocol stream.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import select
import signal
import sys
import time
import traceback


def _one_file(dag_id: str) -> list[str]:
    """Arguments that make ``dags test`` parse only the DAG's own file to find it.

    Without them it parses the whole folder and writes every DAG to the metadata database, and then
    ``dag.test`` parses and writes the folder again.  Each DAG here is declared in ``<dag_id>.py``.
    """
    from airflow.configuration import conf

    path = os.path.join(conf.get("core", "dags_folder"), f"{dag_id}.py")
    return ["--bundle-name", "dags-folder", "--dagfile-path", path] if os.path.exists(path) else []


def _run_in_child(dag_id: str, day: str, log_path: str) -> int:
    from airflow.__main__ import main as airflow_main

    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.argv = ["airflow", "dags", "test", dag_id, day, *_one_file(dag_id)]
    started = dt.datetime.now(dt.UTC)
    code = 0
    try:
        airflow_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the log holds the traceback; the parent gets the exit code
        traceback.print_exc()
        code = 1
    try:
        _record_real_start(dag_id, started)
    except Exception:  # noqa: BLE001 - the run itself is done; a display fix must not fail it
        traceback.print_exc()
    return code


def _record_real_start(dag_id: str, started: dt.datetime) -> None:
    """``airflow dags test`` starts its run at the logical date (``DAG.test``: start_date=logical_date), so the
    UI shows a run of the 24th made on the 30th as lasting six days.  Put the wall-clock start on it."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)).first()
        if run is not None and run.start_date is not None and run.start_date < started:
            run.start_date = started
            run.queued_at = run.queued_at or started


def _exit_after_hooks(code: int) -> None:
    """End a DAG's process as a normal exit would, minus tearing down every module.

    The exit hooks run (``threading``'s: OpenLineage's process pool sends what it holds and stops its
    workers, which a bare ``os._exit`` leaves orphaned; ``atexit``'s: logs flush, the ORM closes), then
    the process leaves: finalising the interpreter with Airflow and GX loaded takes about 3 s per DAG.
    """
    import atexit
    import threading

    try:
        threading._shutdown()
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# Modules every DAG's process would otherwise import for itself (measured with cProfile in a forked child).
_WARM_MODULES = (
    "airflow.cli.cli_parser",
    "airflow.cli.commands.dag_command",
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "airflow.api_fastapi.execution_api.app",
    "airflow.providers.standard.decorators.python",
    "airflow.providers.openlineage.plugins.openlineage",
    "alembic.runtime.environment",
    "revcycle.airflow.dag_factory",
    "revcycle.pipeline.steps",
    "revcycle.jobs.reconciliation",
)


def _prebuild_execution_api() -> None:
    """Build the in-process execution API's app once, and let every task of a DAG's process share one API.

    ``dag.test`` runs each task against an ``InProcessExecutionAPI`` that it builds anew: its FastAPI app
    (0.7 s) and, on its first request, cadwyn's router per API version (2.4 s).  Here the app is built and
    its routes generated before forking (no thread is started: the event loop, lifespan and transport are
    created lazily, in the DAG's own process, on its first request).  One instance then serves every task of
    that process: instances sharing an app would each run the app's lifespan, and the first one collected
    would close it under the others (``KeyError: 'svcs_registry'`` on a 100k-claim day).
    """
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI
    from airflow.sdk.execution_time import supervisor

    api = InProcessExecutionAPI()
    if not getattr(api.app, "_cadwyn_initialized", True):
        api.app._cadwyn_initialize()
    supervisor.in_process_api_server = lambda: api


def _load_plugins() -> None:
    from airflow import plugins_manager

    plugins_manager.get_operator_extra_links()  # loads every plugin (listeners, the work queue) once


def _load_metrics_registry() -> None:
    """Airflow reads its metrics registry (a YAML file, 0.15 s) on the first metric a process sends."""
    from airflow._shared.observability.metrics import stats as core_stats
    from airflow.sdk._shared.observability.metrics import stats as sdk_stats

    core_stats._get_registry()
    sdk_stats._get_registry()


def sync_dags() -> None:
    """Write every DAG of the DAGs folder to the metadata database once, before any DAG runs.

    ``dag.test`` writes the whole folder's DAGs (and their assets) itself; two of them doing so at once on
    a fresh database, or after a DAG file changed, insert the same rows and one fails (``IntegrityError`` on
    ``asset``).  Written here first, what they write later is unchanged rows.  The connections used are
    closed, so no forked child inherits one.
    """
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)
    settings.Session.remove()
    settings.engine.dispose()


def _warm_airflow() -> list[str]:
    """Do once, before forking, what every ``airflow dags test`` would otherwise do again in its child.

    On a 300-claim day this took each DAG's process from about 9 s to about 2 s of fixed cost (bench/HISTORY.md,
    stage 6).  Each step is an optimisation only, and uses Airflow internals that may move: a step that fails
    is logged and left to the child, which then does that work itself as before.  Returns what was warmed.
    """
    import importlib

    warmed = []
    steps = [(name, lambda name=name: importlib.import_module(name)) for name in _WARM_MODULES]
    steps += [
        ("plugins", _load_plugins),
        ("metrics registry", _load_metrics_registry),
        ("execution API", _prebuild_execution_api),
    ]
    for name, step in steps:
        try:
            step()
            warmed.append(name)
        except Exception as exc:  # noqa: BLE001 - see above: the child does it instead
            print(f"dag_runner: could not warm {name}: {exc!r}", file=sys.stderr)
    return warmed


def main() -> None:
    # The protocol keeps the original stdout to itself; anything else printed goes to stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    started = time.perf_counter()
    import airflow  # noqa: F401 - settings initialised once, from this process's environment

    print(f"dag_runner: Airflow imported in {time.perf_counter() - started:.2f}s", file=sys.stderr)

    from revcycle.airflow.preload import preload

    t0 = time.perf_counter()
    preload("revcycle.adapters.validation")
    gx_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    warmed = _warm_airflow()
    print(f"dag_runner: warmed {', '.join(warmed)} in {time.perf_counter() - t1:.2f}s", file=sys.stderr)
    t2 = time.perf_counter()
    sync_dags()
    print(f"dag_runner: DAGs written to the metadata database in {time.perf_counter() - t2:.2f}s", file=sys.stderr)
    # Everything loaded so far lives as long as the runner: move it out of the collector's sight, so a full
    # collection in a DAG's process does not walk Airflow's and GX's objects (0.1-0.3 s each time) nor
    # touch their pages (which would copy them into every child).
    gc.freeze()
    protocol.write(f"ready\t{gx_seconds:.3f}\n")
    protocol.flush()
    _serve(protocol)


def _start(dag_id: str, day: str, log_path: str) -> int:
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        _exit_after_hooks(_run_in_child(dag_id, day, log_path))
    return pid


def _ended(pid: int, status: int, dag_id: str, started: float, log_path: str, protocol) -> None:
    code = os.waitstatus_to_exitcode(status)
    try:
        os.killpg(pid, signal.SIGKILL)  # anything the DAG's process left behind in its group
        with open(log_path, "a") as log:
            log.write("revcycle.airflow.dag_runner: stopped processes this DAG run left behind\n")
    except ProcessLookupError:
        pass
    protocol.write(f"{dag_id}\t{code}\t{time.monotonic() - started:.3f}\n")
    protocol.flush()


def _serve(protocol) -> None:
    """Fork a child for each request as it arrives; answer each as its child ends, in the order they end.

    One thread only (a fork from a threaded process can copy a lock another thread holds): requests are
    read from the raw stdin descriptor when ``select`` says so, children reaped without blocking between.
    """
    running: dict[int, tuple[str, float, str]] = {}
    pending = b""
    stdin_open = True
    while stdin_open or running:
        if stdin_open:
            readable, _, _ = select.select([0], [], [], 0.05 if running else None)
            if readable:
                chunk = os.read(0, 65536)
                stdin_open = bool(chunk)
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    dag_id, day, log_path = line.decode().split("\t")
                    running[_start(dag_id, day, log_path)] = (dag_id, time.monotonic(), log_path)
        while running:
            pid, status = os.waitpid(-1, 0 if not stdin_open else os.WNOHANG)
            if pid == 0:
                break
            if pid in running:
                _ended(pid, status, *running.pop(pid), protocol)


if __name__ == "__main__":
    main()
