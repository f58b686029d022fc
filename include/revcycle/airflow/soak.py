"""Many business days in a row on the cluster, with the trouble of real days, against the embedded default.

Each day is ``run-day --mixed``: re-sent files, a duplicate payment, a malformed file of each kind and a late
file (revcycle.synthetic.mixed). The day is run in an embedded home and on the running cluster. After it:
- the two runs must agree on the day's totals, open exceptions, files and lake digests (chaos.checks);
- exactly the seeded files must end quarantined;
- a decision a person took in the work queue after the first day (an exception resolved, with a note) must
  still stand, the same in both homes (resolved, or closed by reconciliation once its break vanished);
- the resident memory of each long-lived cluster process is read. It must not grow from day to day.

``revcycle cluster soak`` prints the table; docs/reliability.md records it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

from revcycle.airflow import chaos, cluster

Echo = Callable[[str], None]
DECIDE = """
import json, sys
from revcycle.jobs import work_queue
from revcycle.jobs.work_queue import Actor, Filters
items = work_queue.listing(Filters(sort="reference", descending=False))["items"]
it = items[0]
work_queue.act(it["item_key"], "resolve", Actor("admin", frozenset(), True), resolution_code="NOT_AN_ERROR",
               note="soak: decided on the first day")
print(json.dumps(it["item_key"]))
"""
STATUS = """
import json, sys
from revcycle.jobs import work_queue
print(json.dumps(work_queue.item(sys.argv[1])["status"]))
"""


def _python(code: str, env: dict[str, str], *args: str) -> object:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"work-queue step failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def memory() -> dict[str, int]:
    """Resident MB of each long-lived cluster process (a worker's own process, not the task tries it forks)."""
    state = cluster.load_state() or {"pids": {}}
    out = {}
    for name, pid in state["pids"].items():
        try:
            out[name] = round(psutil.Process(pid).memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            out[name] = 0
    return out


def run(days: int, claims: int, seed: int, first_day: dt.date, work: Path, echo: Echo) -> dict:
    base, embedded_env, cluster_env = chaos.environments(work)
    rows, decided = [], None
    for n in range(days):
        day = first_day + dt.timedelta(days=n)
        args = ["run-day", "--mixed", "--date", day.isoformat(), "--claims", str(claims), "--seed", str(seed)]
        echo(f"[day {n + 1}/{days}] {day}: embedded ...")
        embedded = chaos.run_json(args, embedded_env, 1800)
        echo(f"[day {n + 1}/{days}] {day}: cluster ...")
        on_cluster = chaos.run_json([*args, "--on", "cluster"], base, 3600)
        trouble = json.loads(
            (cluster.cluster_dir() / "home" / "inbound" / "_manifest" / f"{day.isoformat()}.json").read_text()
        )["trouble"]
        row = {
            "day": day.isoformat(),
            "files": on_cluster["files_in"],
            "quarantined": len(on_cluster["quarantined"]),
            "checks": chaos.checks(embedded, on_cluster, embedded_env, day.isoformat()),
            "quarantined_as_seeded": sorted(q["file"] for q in on_cluster["quarantined"]) == trouble["must_quarantine"],
            "late": len(trouble["late"]),
            "exceptions_open": on_cluster.get("exceptions_open"),
        }
        if decided is None:
            decided = _python(DECIDE, embedded_env)
            assert _python(DECIDE, cluster_env) == decided, "the two homes' first items differ"
        row["decision_kept"] = [_python(STATUS, env, decided) for env in (embedded_env, cluster_env)]
        row["memory_mb"] = memory()
        row["passed"] = chaos.passed(row) and row["quarantined_as_seeded"] and decision_kept(row)
        echo(f"  {'ok' if row['passed'] else 'FAILED'}: {json.dumps(row, default=str)[:600]}")
        rows.append(row)
    return {"days": rows, "memory": growth(rows), "passed": all(r["passed"] for r in rows)}


def decision_kept(row: dict) -> bool:
    """The person's decision stands, the same in both homes: still resolved, or closed by reconciliation once
    its break vanished (a resolved item is never reopened by a run)."""
    embedded, on_cluster = row["decision_kept"]
    return embedded == on_cluster and embedded in ("resolved", "closed")


def growth(rows: list[dict]) -> dict[str, dict]:
    """Per process: MB after the second day (its libraries and caches warm) and after the last, and the
    largest rise from one day to the next after that."""
    if len(rows) < 3:
        return {}
    out = {}
    for name in rows[1]["memory_mb"]:
        series = [r["memory_mb"].get(name, 0) for r in rows[1:]]
        out[name] = {
            "after_day_2": series[0],
            "last": series[-1],
            "max_daily_rise": max(b - a for a, b in zip(series, series[1:], strict=False)),
        }
    return out


def table(result: dict) -> str:
    lines = [
        "| day | files | quarantined (all seeded) | late | open exceptions | equal to embedded | decision kept |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["days"]:
        equal = chaos.passed(r)
        lines.append(
            f"| {r['day']} | {r['files']} | {r['quarantined']} ({'yes' if r['quarantined_as_seeded'] else 'NO'}) "
            f"| {r['late']} | {r['exceptions_open']} | {'yes' if equal else 'NO'} "
            f"| {r['decision_kept'][0] if decision_kept(r) else 'NO'} |"
        )
    lines += ["", "| process | MB after day 2 | MB after the last day | largest rise in one day |", "|---|---|---|---|"]
    for name, g in result["memory"].items():
        lines.append(f"| {name} | {g['after_day_2']} | {g['last']} | {g['max_daily_rise']} |")
    return "\n".join(lines)
