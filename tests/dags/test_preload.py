"""REVCYCLE_PRELOAD: Airflow's local-settings hook imports the named modules in the worker, before it forks tasks."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = (
    "import os, sys, airflow\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os._exit(0 if 'great_expectations' in sys.modules else 3)\n"  # the task process: warm or not
    "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
)


def _run(preload: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REVCYCLE_PRELOAD"}
    if preload is not None:
        env["REVCYCLE_PRELOAD"] = preload
    return subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)


def test_a_process_forked_from_a_preloaded_worker_has_gx_loaded():
    out = _run("great_expectations")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_without_the_variable_nothing_is_imported():
    out = _run(None)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "3"


def test_a_module_that_cannot_be_imported_stops_the_worker_with_the_variable_named():
    out = _run("great_expectations, no_such_module_here")
    assert out.returncode != 0
    assert "REVCYCLE_PRELOAD names 'no_such_module_here'" in out.stderr


def _forked_task_sees(condition: str, imports: str = "") -> str:
    """Exit code, as text, of a process forked from a worker that preloaded revcycle's validation: 0 when
    ``condition`` holds in the forked process."""
    check = (
        f"import gc, os, sys, airflow\n{imports}"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        f"    os._exit(0 if {condition} else 3)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    env = dict(os.environ, REVCYCLE_PRELOAD="revcycle.adapters.validation")
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_preloading_revcycle_validation_warms_the_gx_context_before_the_fork():
    condition = "validation._gx.cache_info().currsize == 1"
    assert _forked_task_sees(condition, "from revcycle.adapters import validation\n") == "0"


def test_what_the_worker_preloaded_is_frozen_out_of_the_collectors_sight():
    """A full collection in a forked task would otherwise walk all of GX's and Airflow's objects (0.19 s each)."""
    assert _forked_task_sees("gc.get_freeze_count() > 100_000") == "0"
