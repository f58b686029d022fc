"""Scale: consecutive business days on the cluster, with one Celery worker and with two, against the embedded run.

    .venv/bin/python bench/cluster_scale.py [--claims 142858] [--days 7] [--workers 2,1]

For each worker count it starts a fresh ``revcycle cluster`` (``REVCYCLE_CLUSTER_WORKERS``; 2 task slots per
worker), runs the days one after another through the REST API, samples the memory of every process of the
cluster once a second (each component's own peak RSS, and the largest task process each one started), and
stops and wipes it.  The same days run embedded first; every cluster day must agree with its embedded day
(summary fields and lake digests), or the bench fails.  Prints and writes the "Scale" section of
bench/RESULTS.md: per-day wall times, task instances per worker, peak memory per process, and the scaling
figure (one worker's wall over two workers').  Needs the local PostgreSQL and Redis, and SeaweedFS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from revcycle.airflow.cluster import differences, lake_digests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_day import _run, caller_env, embedded_environment  # bench/cluster_day.py, beside this script
from results_file import write_section

FIRST_DAY, SEED = dt.date(2026, 11, 23), 42  # a Monday: the days that follow are business days
WATCHED = ("remittance", "supply_usage", "claim_status_inquiry", "supplier_invoices", "reconciliation")


class MemorySampler:
    """Once a second: each cluster component's own RSS and the largest RSS of any process it started (a task
    try, a Celery child), keeping the peaks.  The components are read from the cluster's state file."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.own: dict[str, float] = {}
        self.child: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                pids = json.loads(self.state_file.read_text())["pids"]
            except (OSError, ValueError, KeyError):
                continue
            for name, pid in pids.items():
                try:
                    proc = psutil.Process(pid)
                    own = proc.memory_info().rss / 2**20
                    kids = [c.memory_info().rss / 2**20 for c in proc.children(recursive=True)]
                except psutil.Error:
                    continue
                self.own[name] = max(self.own.get(name, 0.0), own)
                if kids:
                    self.child[name] = max(self.child.get(name, 0.0), max(kids))


def run_week(env: dict[str, str], days: list[str], claims: str, workers: int, tmp: str) -> dict:
    env = {
        **env,
        "REVCYCLE_HOME": f"{tmp}/caller{workers}",
        "REVCYCLE_CLUSTER_HOME": f"{tmp}/cluster{workers}",
        "REVCYCLE_CLUSTER_NAME": f"revcycle_cluster_scale{workers}",
        "REVCYCLE_CLUSTER_REDIS": "redis://127.0.0.1:6379/14",
        "REVCYCLE_CLUSTER_WORKERS": str(workers),
    }
    print(f"cluster with {workers} worker(s): up --fresh ...", flush=True)
    _, up_wall = _run(env, "cluster", "up", "--fresh")
    runs = []
    try:
        with MemorySampler(Path(env["REVCYCLE_CLUSTER_HOME"]) / "state.json") as memory:
            for day in days:
                out, wall = _run(
                    env, "run-day", "--on", "cluster", "--date", day, "--claims", claims, "--seed", str(SEED), "--json"
                )
                summary = json.loads(out)
                runs.append({"day": day, "wall": wall, "summary": summary})
                by_worker = summary["cluster"]["task_instances_by_worker"]
                print(f"  {day}: {wall:.0f}s, task instances by worker {by_worker}", flush=True)
    finally:
        _run(env, "cluster", "down", "--wipe")
    return {"workers": workers, "up": up_wall, "runs": runs, "own": memory.own, "child": memory.child}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=142858, help="claims a day (7 days of 142,858: a million)")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--workers", default="2,1", help="worker counts to run the days with, in order")
    args = ap.parse_args()
    days, at = [], FIRST_DAY
    while len(days) < args.days:
        if at.weekday() < 5:
            days.append(at.isoformat())
        at += dt.timedelta(days=1)
    claims = str(args.claims)
    base = caller_env()
    with tempfile.TemporaryDirectory(prefix="revcycle-cluster-scale-") as tmp:
        embedded_env = embedded_environment(base, f"{tmp}/embedded")
        embedded = {}
        for day in days:
            out, wall = _run(embedded_env, "run-day", "--date", day, "--claims", claims, "--seed", str(SEED), "--json")
            embedded[day] = {"wall": wall, "summary": json.loads(out), "lake": lake_digests(embedded_env, day)}
            print(f"embedded {day}: {wall:.0f}s", flush=True)
        weeks, disagree = [], []
        for w in args.workers.split(","):
            weeks.append(run_week(base, days, claims, int(w), tmp))
            for run in weeks[-1]["runs"]:
                ref = embedded[run["day"]]
                diff = differences(ref["summary"], run["summary"])
                if diff or run["summary"]["cluster"]["lake_digests"] != ref["lake"]:
                    disagree.append((weeks[-1]["workers"], run["day"], diff))
            # Written after each worker count, so a long run that is stopped keeps what it measured.
            text = "\n".join(section(days, claims, embedded, weeks, disagree, args.workers))
            print(text, flush=True)
            write_section(*section_name(args.workers), text)
    if disagree:
        sys.exit(1)


def section_name(workers: str) -> tuple[str, str]:
    """The RESULTS.md marker and title: the default run (two workers, then one) has its own section; a run
    of other worker counts gets one beside it, so it does not overwrite a longer run's figures."""
    if workers == "2,1":
        return "cluster-scale", "Scale: business days on the cluster, one worker and two (bench/cluster_scale.py)"
    return (
        f"cluster-scale-w{workers.replace(',', '-')}",
        f"Scale: business days on the cluster with {workers} worker(s) (bench/cluster_scale.py --workers {workers})",
    )


def section(
    days: list[str], claims: str, embedded: dict, weeks: list[dict], disagree: list, workers: str = "2,1"
) -> list[str]:
    total = int(claims) * len(days)
    flag = "" if workers == "2,1" else f" --workers {workers}"
    lines = [
        f"Produced by `.venv/bin/python bench/cluster_scale.py --claims {claims} --days {len(days)}{flag}` on "
        f"{time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores; every component, PostgreSQL, Redis and SeaweedFS on "
        f"this one machine): {len(days)} business days of {int(claims):,} claims ({total:,} in all), seed {SEED}.",
        "",
        "| day | embedded s | " + " | ".join(f"{w['workers']} worker(s) s" for w in weeks) + " |",
        "|---|---|" + "---|" * len(weeks),
    ]
    for n, day in enumerate(days):
        cells = [f"{w['runs'][n]['wall']:.0f}" for w in weeks]
        lines.append(f"| {day} | {embedded[day]['wall']:.0f} | " + " | ".join(cells) + " |")
    sums = [sum(r["wall"] for r in w["runs"]) for w in weeks]
    lines.append(
        f"| **all days** | **{sum(e['wall'] for e in embedded.values()):.0f}** | "
        + " | ".join(f"**{s:.0f}**" for s in sums)
        + " |"
    )
    lines += [
        "",
        "The DAGs whose cost can grow with history (reconciliation and the invoice match read every day to date; "
        "posting meets ever larger tables), seconds per day:",
        "",
        "| day | run | " + " | ".join(WATCHED) + " |",
        "|---|---|" + "---|" * len(WATCHED),
    ]
    for n, day in enumerate(days):
        runs = [("embedded", embedded[day]["summary"])]
        runs += [(f"{w['workers']} worker(s)", w["runs"][n]["summary"]) for w in weeks]
        for name, summary in runs:
            seconds = {r["dag_id"]: r["seconds"] for r in summary.get("dag_runs", [])}
            lines.append(f"| {day} | {name} | " + " | ".join(str(seconds.get(d, "-")) for d in WATCHED) + " |")
    lines += ["", "| workers | task instances by worker (all days) | cluster start s |", "|---|---|---|"]
    for w in weeks:
        hosts: dict[str, int] = {}
        for run in w["runs"]:
            for host, count in run["summary"]["cluster"]["task_instances_by_worker"].items():
                hosts[host] = hosts.get(host, 0) + count
        lines.append(f"| {w['workers']} | {', '.join(f'{h} {c}' for h, c in sorted(hosts.items()))} | {w['up']:.0f} |")
    lines += [
        "",
        "| workers | process | own peak RSS MB | largest process it started, MB |",
        "|---|---|---|---|",
    ]
    for w in weeks:
        for name in sorted(w["own"]):
            child = w["child"].get(name)
            lines.append(
                f"| {w['workers']} | {name} | {w['own'][name]:.0f} | {f'{child:.0f}' if child is not None else '-'} |"
            )
    by = {w["workers"]: s for w, s in zip(weeks, sums, strict=True)}
    if 1 in by and 2 in by:
        lines += [
            "",
            f"Scaling: two workers took {by[2]:.0f} s for the days, one worker {by[1]:.0f} s: "
            f"**{by[1] / by[2]:.2f}x** with the second worker ({int(claims) * len(days) / by[2]:,.0f} claims/s "
            f"against {int(claims) * len(days) / by[1]:,.0f}).",
        ]
    lines += [
        "",
        "Every cluster day agrees with the embedded run of the same day and seed (summary fields and lake "
        f"digests): **{'yes' if not disagree else 'NO: ' + json.dumps(disagree, default=str)}**.",
    ]
    return lines


if __name__ == "__main__":
    main()
