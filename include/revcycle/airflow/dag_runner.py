"""One warm Airflow process that runs ``airflow dags test`` for each DAG of a day in a forked child.

``revcycle run-day`` used to start ``airflow dags test`` afresh for each of its nine DAGs, so each paid
Airflow's import and, in its first validate task, Great Expectations' (about 2.5 s; bench stage 6).
This runner imports both once, then forks a child per DAG, as an Airflow worker forks each task try:
the children start warm and stay isolated from one another.  ``runtime.replay_day`` drives it over pipes:

    -> ready <seconds spent preloading GX>
    <- <dag_id> TAB <business day> TAB <log path>
    -> <exit code> TAB <seconds>

A DAG's output goes to its log file, never to the protocol stream.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
import traceback


def _run_in_child(dag_id: str, day: str, log_path: str) -> int:
    from airflow.__main__ import main as airflow_main

    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.argv = ["airflow", "dags", "test", dag_id, day]
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


def main() -> None:
    # The protocol keeps the original stdout to itself; anything else printed goes to stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import airflow  # noqa: F401 - settings initialised once, from this process's environment

    from revcycle.airflow.preload import preload

    t0 = time.perf_counter()
    preload("revcycle.adapters.validation")
    protocol.write(f"ready\t{time.perf_counter() - t0:.3f}\n")
    protocol.flush()
    for line in sys.stdin:
        dag_id, day, log_path = line.rstrip("\n").split("\t")
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            _exit_after_hooks(_run_in_child(dag_id, day, log_path))
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        try:
            os.killpg(pid, signal.SIGKILL)  # anything the DAG's process left behind in its group
            with open(log_path, "a") as log:
                log.write("revcycle.airflow.dag_runner: stopped processes this DAG run left behind\n")
        except ProcessLookupError:
            pass
        protocol.write(f"{code}\t{time.monotonic() - start:.3f}\n")
        protocol.flush()


if __name__ == "__main__":
    main()
