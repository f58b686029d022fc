"""A dead component is seen as dead, zombie or not (the chaos run's find: a scheduler that a PostgreSQL restart
killed, restarted earlier by the same process, stayed an unreaped zombie; ``heal`` took it for alive and the day
never finished)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from revcycle.airflow.cluster import _alive


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "Z"


def _until(check, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_component_this_process_started_and_that_died_is_dead_and_reaped():
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    assert _alive(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    _until(lambda: _zombie(proc.pid))  # dead, unreaped: its process group still answers signal 0
    assert not _alive(proc.pid)
    assert not os.path.exists(f"/proc/{proc.pid}")  # reaped by the check


def test_a_zombie_another_process_has_not_reaped_is_dead():
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "p = subprocess.Popen(['true'], start_new_session=True)\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid = int(parent.stdout.readline())
        _until(lambda: _zombie(pid))
        assert not _alive(pid)
    finally:
        parent.kill()
        parent.wait()
