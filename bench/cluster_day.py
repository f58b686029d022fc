"""A business day on the distributed cluster next to the embedded run of the same day and seed.

    .venv/bin/python bench/cluster_day.py [--claims 100000]

Runs ``revcycle run-day`` embedded (SQLite, local folders, ``airflow dags test``), then starts a fresh
``revcycle cluster`` (CeleryExecutor, two workers, PostgreSQL, Redis, S3 lake), runs the same day on it
through the REST API, stops it (by PID) and wipes it.  Prints both wall times, their ratio, each DAG's time,
the task instances each worker ran and whether the results agree (summary fields and lake digests), and
writes section 8 of bench/RESULTS.md.  Needs the local PostgreSQL and Redis, and SeaweedFS (test extras).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revcycle.airflow.cluster import differences, lake_digests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import day_gx_seconds, day_task_shares  # bench/run.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
DAY, SEED = "2026-11-24", "42"
REVCYCLE = str(Path(sys.executable).with_name("revcycle"))


def _run(env: dict[str, str], *args: str) -> tuple[str, float]:
    start = time.perf_counter()
    proc = subprocess.run([REVCYCLE, *args], env=env, capture_output=True, text=True, timeout=7200)
    if proc.returncode:
        raise SystemExit(f"revcycle {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout, time.perf_counter() - start


def caller_env() -> dict[str, str]:
    """This process's environment less any revcycle or Airflow setting, with the bench's token key."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REVCYCLE_", "AIRFLOW"))}
    base["REVCYCLE_TOKEN_KEY"] = "bench-token-key-0001"
    return base


def embedded_environment(base: dict[str, str], home: str) -> dict[str, str]:
    """The embedded side of a comparison with the cluster.  The cluster's run-day starts no synthetic FHIR
    server: its days are all X12/HL7, so the embedded days are generated the same way (as the chaos matrix
    and tests/integration/test_cluster.py do)."""
    return {**base, "REVCYCLE_HOME": home, "REVCYCLE_FHIR_PAYERS": "", "REVCYCLE_FHIR_EHR_SHARE": "0"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=100000)
    args = ap.parse_args()
    claims = str(args.claims)
    base = caller_env()
    with tempfile.TemporaryDirectory(prefix="revcycle-cluster-bench-") as tmp:
        embedded_env = embedded_environment(base, f"{tmp}/embedded")
        print(f"embedded: run-day {DAY}, {claims} claims ...", flush=True)
        out, embedded_wall = _run(embedded_env, "run-day", "--date", DAY, "--claims", claims, "--seed", SEED, "--json")
        embedded = json.loads(out)
        print(f"  wall {embedded_wall:.0f}s", flush=True)
        cluster_env = {
            **base,
            "REVCYCLE_HOME": f"{tmp}/caller",
            "REVCYCLE_CLUSTER_HOME": f"{tmp}/cluster",
            "REVCYCLE_CLUSTER_NAME": "revcycle_cluster_bench",
            "REVCYCLE_CLUSTER_REDIS": "redis://127.0.0.1:6379/13",
        }
        print("cluster: up --fresh ...", flush=True)
        _, up_wall = _run(cluster_env, "cluster", "up", "--fresh")
        try:
            print(f"  up in {up_wall:.0f}s; run-day --on cluster ...", flush=True)
            out, cluster_wall = _run(
                cluster_env, "run-day", "--on", "cluster", "--date", DAY, "--claims", claims, "--seed", SEED, "--json"
            )
            on_cluster = json.loads(out)
            # The validate tasks' share of the cluster's task time, read before the cluster is wiped.
            pg = os.environ.get("REVCYCLE_CLUSTER_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
            ops_url = (
                pg.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + cluster_env["REVCYCLE_CLUSTER_NAME"]
            )
            cluster_shares = day_task_shares(Path(tmp) / "caller", dt.date.fromisoformat(DAY), ops_url)
            cluster_shares["gx_seconds"] = day_gx_seconds(ops_url + "_airflow")
        finally:
            _run(cluster_env, "cluster", "down", "--wipe")
        print(f"  wall {cluster_wall:.0f}s", flush=True)
        same_lake = on_cluster["cluster"]["lake_digests"] == lake_digests(embedded_env, DAY)
        embedded_shares = day_task_shares(Path(tmp) / "embedded", dt.date.fromisoformat(DAY))
        embedded_shares["gx_seconds"] = day_gx_seconds(f"sqlite:///{tmp}/embedded/airflow/airflow.db")
    diff = differences(embedded, on_cluster)
    ok = all(r["success"] for r in embedded["dag_runs"] + on_cluster["dag_runs"])
    by_worker = on_cluster["cluster"]["task_instances_by_worker"]
    embedded_dags = {r["dag_id"]: r["seconds"] for r in embedded["dag_runs"]}
    lines = [
        f"## 8. A business day on the cluster ({claims} claims, seed {SEED})",
        "",
        f"Produced by `.venv/bin/python bench/cluster_day.py --claims {claims}` on {time.strftime('%Y-%m-%d')} "
        f"({os.cpu_count()} cores, every component on this one machine). Embedded: `airflow dags test` from the "
        "warm runner, the DAGs of a wave side by side, SQLite, local folders. Cluster: CeleryExecutor with two workers (2 slots each), "
        "PostgreSQL metadata/ERP/ops, Redis broker, every kept file on S3 (SeaweedFS), GX preloaded in the "
        "workers, DAGs triggered "
        "through the REST API in dependency waves. Both walls include generating the day; the cluster's "
        f"start-up ({up_wall:.0f}s) is not in it.",
        "",
        "| run | wall s | vs embedded |",
        "|---|---|---|",
        f"| embedded | {embedded_wall:.0f} | 1.00x |",
        f"| cluster | {cluster_wall:.0f} | {cluster_wall / embedded_wall:.2f}x |",
        "",
        "| DAG | embedded s | cluster s (from its wave's trigger) |",
        "|---|---|---|",
    ]
    lines += [f"| {r['dag_id']} | {embedded_dags.get(r['dag_id'])} | {r['seconds']} |" for r in on_cluster["dag_runs"]]
    lines += [
        "",
        "| run | GX s | validate tasks s | all task tries s | GX share | target <= 15% | validate tasks' share |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {sh['gx_seconds']:.1f} | {sh['validate_seconds']:.1f} | {sh['task_seconds']:.1f} | "
            f"{sh['gx_seconds'] / sh['task_seconds']:.0%} | "
            f"{'met' if sh['gx_seconds'] / sh['task_seconds'] <= 0.15 else 'not met'} | {sh['validate_share']:.0%} |"
            for name, sh in (("embedded", embedded_shares), ("cluster", cluster_shares))
        ),
        "",
        "GX s: the seconds each validate task spent inside GX (its `gx_seconds` XCom); task tries: ops.task_latency, "
        "the SLA listener's timings. A validate task also reads the staged Parquet, writes the report and starts "
        "like any task. GX's import is not counted here on either side: run-day's runner and the cluster's workers "
        "import it once when they start (`REVCYCLE_PRELOAD`), before the day.",
        "",
        "Task instances by worker: " + ", ".join(f"{h} {n}" for h, n in sorted(by_worker.items())) + ".",
        f"All DAG runs succeeded: **{'yes' if ok else 'NO'}**. Summary fields equal (ERP totals, journal balance, "
        f"file states, exceptions): **{'yes' if not diff else 'NO: ' + json.dumps(diff, default=str)}**. "
        f"Lake record digests equal: **{'yes' if same_lake else 'NO'}**.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text()
    text = re.sub(r"\n## 8\. .*\Z", "", text, flags=re.S).rstrip("\n") + "\n\n" + section
    results.write_text(text)
    if diff or not same_lake or not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
