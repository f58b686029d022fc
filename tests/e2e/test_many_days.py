"""A new user's first week: the README's main job on a home that has never run, then day after day.

Two defects found this way (issue 26) are pinned here:
- the first day on a fresh home raced for the PHI-token key: a parse task failed with FileExistsError and
  waited for its retry (and a process could tokenise with an empty key);
- the synthetic payers answered every 276 in the exchange again each day, so a second day quarantined their
  999s as DUPLICATE_INTERCHANGE.
The token key comes from the home here, as on a new user's machine (no ``REVCYCLE_TOKEN_KEY``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from revcycle.airflow.runtime import RUN_ORDER

pytestmark = pytest.mark.airflow

CLAIMS = "300"
FIRST = dt.date(2026, 11, 30)


def run_day(home: Path, day: dt.date) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REVCYCLE_TOKEN_KEY"}
    env.update(REVCYCLE_HOME=str(home), REVCYCLE_DAY_LANES="2")
    cli = Path(sys.executable).with_name("revcycle")
    out = subprocess.run(
        [str(cli), "run-day", "--date", day.isoformat(), "--claims", CLAIMS, "--seed", "7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def retried_tasks(home: Path) -> list[tuple]:
    """Task instances that needed more than one try, or ended neither succeeded nor skipped (a branch with
    nothing to send), from Airflow's own metadata."""
    with closing(sqlite3.connect(home / "airflow" / "airflow.db")) as db:
        rows = db.execute("select dag_id, task_id, map_index, try_number, state from task_instance").fetchall()
    assert rows, "no task instance recorded"
    return [r for r in rows if r[3] > 1 or r[4] not in ("success", "skipped")]


def ledger_states(home: Path) -> dict[str, int]:
    with closing(sqlite3.connect(home / "ops.sqlite")) as db:
        return dict(db.execute("select state, count(*) from ingestion_ledger group by state").fetchall())


def check_day(home: Path, out: str, day: dt.date) -> None:
    assert f"Business day {day}" in out
    assert re.search(r"quarantined:\s+0\n", out), out
    assert "DUPLICATE_INTERCHANGE" not in out
    m = re.search(r"this run:\s+(\d+) new files \(posted (\d+)\)", out)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) > 0, out
    # Every DAG ran once and no task needed a second try.
    assert len(re.findall(r" ok \(", out.split("DAG runs:", 1)[1].splitlines()[0])) == len(RUN_ORDER), out
    assert retried_tasks(home) == []
    assert set(ledger_states(home)) == {"posted"}, ledger_states(home)


@pytest.mark.parametrize(
    "order",
    [(0, 1, 2), (1, 0)],
    ids=["three-days-forward", "two-days-backward"],
)
def test_consecutive_days_on_a_fresh_home_retry_nothing_and_quarantine_nothing(tmp_path, order):
    home = tmp_path / "home"
    days = [FIRST + dt.timedelta(days=n) for n in order]
    for day in days:
        check_day(home, run_day(home, day), day)
    key = (home / "secrets" / "token.key").read_bytes().strip()
    assert re.fullmatch(rb"[0-9a-f]{64}", key) and (home / "secrets" / "token.key").stat().st_mode & 0o777 == 0o600
    # The payers answered each 276 once: one 999 per 276 sent, over all the days.
    sent = sorted((home / "exchange").glob("*/outbound/276_*.x12"))
    answers = sorted((home / "inbound" / "acks").glob("999_*.999"))
    assert len(sent) == len(answers) > len(days)
