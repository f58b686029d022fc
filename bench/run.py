"""Benchmarks: each figure is a ratio against a baseline measured in the same run on the same data.

    .venv/bin/python bench/run.py            # full sizes, writes bench/RESULTS.md
    .venv/bin/python bench/run.py --quick    # tiny sizes (smoke), prints only

Stages measured so far (issue 8 extends the list):
  1. 835 parsing to canonical records vs pyx12 X12Reader (tokens only) and X12ContextReader (loop-aware),
     with peak RSS of each in its own process.
  3. HL7 DFT^P03 supply usage: our reader + FT1 mapping (+ item master + ACKs) vs hl7apy parsing,
     messages per second on the same generated day.
  7. DAG parse time per file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name: (setup, timed work that sets n = segments read). Imports stay out of the timing.
WORKERS = {
    "revcycle_reader": ("from revcycle.x12.reader import X12Reader",
                        "n=sum(1 for _ in X12Reader(open(P,'rb')))"),
    "revcycle_835_records": ("from revcycle.x12.remittance import read_remittances\nimport revcycle.phi as phi",
                             "for r, s in read_remittances(P): pass\nn=r.segment_count"),
    "pyx12_X12Reader": ("import pyx12.x12file", "n=sum(1 for _ in pyx12.x12file.X12Reader(P))"),
    "pyx12_X12ContextReader": (
        "import pyx12.x12context, pyx12.params, pyx12.error_handler, logging\n"
        "logging.getLogger('pyx12').setLevel(logging.CRITICAL)",
        "r=pyx12.x12context.X12ContextReader(pyx12.params.params(), pyx12.error_handler.err_handler(), P)\n"
        "n=sum(1 for _ in r.iter_segments())"),
}

HL7_WORKERS = {
    "revcycle_hl7_read_map": (
        "from revcycle.hl7.reader import read_messages\nfrom revcycle.hl7.dft import map_dft",
        "n=0\nfor m in read_messages(P):\n    map_dft(m); n+=1"),
    "revcycle_hl7_full": (
        "import datetime as dt\nfrom revcycle.hl7.reader import read_messages\nfrom revcycle.hl7.dft import map_dft\n"
        "from revcycle.hl7.ack import build_ack\nfrom revcycle.pipeline.supply_usage import _finish, _ack_base, check_usage\n"
        "from revcycle.hl7.ack import AckInput",
        "n=0\nfor m in read_messages(P):\n    rows=[_finish(r, dt.date(2026,11,24)) for r in map_dft(m)]\n"
        "    [check_usage(r, 'x') for r in rows]\n    build_ack(AckInput('AA', **_ack_base(m)), n); n+=1"),
    # hl7apy on the first 1,000 messages only: it runs ~100-300 messages/s, so the whole day would take minutes.
    "hl7apy_parse_message": (
        "from hl7apy.parser import parse_message\n"
        "msgs=['MSH|'+x for x in open(P, encoding='latin-1', newline='').read().split('MSH|')[1:]][:1000]",
        "n=0\nfor x in msgs:\n    parse_message(x, find_groups=True); n+=1"),
}


def run_worker(name: str, path: Path) -> dict:
    setup, work = {**WORKERS, **HL7_WORKERS}[name]
    code = (f"import time, resource, json\nP={str(path)!r}\n{setup}\nt=time.perf_counter()\n{work}\n"
            "s=time.perf_counter()-t\n"
            "print(json.dumps({'segments': n, 'seconds': s, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))")
    env = dict(os.environ, REVCYCLE_TOKEN_KEY="bench")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=3600)
    if out.returncode:
        raise SystemExit(f"{name} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_835(claims: int, work: Path) -> list[dict]:
    from revcycle.generate.day import generate_day

    generate_day(work, dt.date(2026, 11, 24), claims, 1)
    path = max((work / "remittance").glob("*.835"), key=lambda p: p.stat().st_size)
    rows = []
    for name in WORKERS:
        r = run_worker(name, path)
        r.update(name=name, mb=path.stat().st_size / 1e6, seg_per_s=r["segments"] / r["seconds"])
        rows.append(r)
        print(f"  {name:<24} {r['segments']:>9} segments {r['seconds']:8.2f}s {r['seg_per_s']:>12,.0f} seg/s "
              f"peak RSS {r['rss_mb']:7.1f} MB", flush=True)
    return rows


def bench_hl7(messages: int, work: Path) -> list[dict]:
    import random

    from revcycle.generate import supply

    supply.MESSAGES_PER_FILE = messages          # one file holding the whole day's DFT messages
    (work / "supply").mkdir(parents=True, exist_ok=True)
    (work / "invoices").mkdir(parents=True, exist_ok=True)
    supply.write_supply_files(work, dt.date(2026, 11, 24), random.Random(1), messages)
    path = next((work / "supply").glob("*.hl7"))
    rows = []
    for name in HL7_WORKERS:
        r = run_worker(name, path)
        r.update(name=name, mb=path.stat().st_size / 1e6, per_s=r["segments"] / r["seconds"])
        rows.append(r)
        print(f"  {name:<24} {r['segments']:>9} messages {r['seconds']:8.2f}s {r['per_s']:>10,.0f} msg/s "
              f"peak RSS {r['rss_mb']:7.1f} MB", flush=True)
    return rows


def bench_dag_parse() -> list[dict]:
    rows = []
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        code = ("import time, importlib.util, airflow.sdk\nt=time.perf_counter()\n"
                f"spec=importlib.util.spec_from_file_location('d', {str(dag_file)!r})\n"
                "m=importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\nprint(time.perf_counter()-t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        rows.append({"dag": dag_file.name, "seconds": float(out.stdout.strip().splitlines()[-1])})
        print(f"  {dag_file.name:<24} {rows[-1]['seconds']:.3f}s", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--claims", type=int, default=None)
    args = ap.parse_args()
    claims = args.claims or (200 if args.quick else 20000)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"stage 1: 835 parsing ({claims} claims generated, largest file)")
        p835 = bench_835(claims, Path(tmp))
    messages = 500 if args.quick else 50000
    with tempfile.TemporaryDirectory() as tmp:
        print(f"stage 3: HL7 DFT^P03 supply usage ({messages} messages generated)")
        hl7 = bench_hl7(messages, Path(tmp))
    print("stage 7: DAG parse time (import after airflow.sdk)")
    dags = bench_dag_parse()
    base = {r["name"]: r for r in p835}
    ctx, raw = base["pyx12_X12ContextReader"], base["pyx12_X12Reader"]
    ours = base["revcycle_835_records"]
    lines = [
        "# Benchmark results", "",
        f"Produced by `.venv/bin/python bench/run.py` on {dt.date.today()} ({os.cpu_count()} cores); "
        "every ratio is against a baseline measured in the same run on the same file.", "",
        f"## 1. 835 parsing ({claims} claims generated; largest file {ours['mb']:.1f} MB, {ours['segments']} segments)", "",
        "| reader | seg/s | vs X12ContextReader | vs pyx12 X12Reader | peak RSS MB |", "|---|---|---|---|---|",
    ]
    for r in p835:
        lines.append(f"| {r['name']} | {r['seg_per_s']:,.0f} | {r['seg_per_s'] / ctx['seg_per_s']:.1f}x | "
                     f"{r['seg_per_s'] / raw['seg_per_s']:.1f}x | {r['rss_mb']:.0f} |")
    target = ours["seg_per_s"] >= 1_000_000 and ours["seg_per_s"] >= 100 * ctx["seg_per_s"]
    lines += ["", f"Target >= 1,000,000 seg/s and >= 100x the context reader for canonical records: "
                  f"**{'met' if target else 'not met'}** ({ours['seg_per_s']:,.0f} seg/s, "
                  f"{ours['seg_per_s'] / ctx['seg_per_s']:.0f}x).", ""]
    apy = next(r for r in hl7 if r["name"] == "hl7apy_parse_message")
    full = next(r for r in hl7 if r["name"] == "revcycle_hl7_full")
    lines += [f"## 3. HL7 DFT^P03 supply usage ({messages} messages in one file, {full['mb']:.1f} MB)", "",
              "| worker | messages | seconds | msg/s | vs hl7apy | peak RSS MB |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['segments']} | {r['seconds']:.2f} | {r['per_s']:,.0f} | "
              f"{r['per_s'] / apy['per_s']:.1f}x | {r['rss_mb']:.0f} |" for r in hl7]
    lines += ["", f"A day of {messages} messages through the full fast path takes {full['seconds']:.1f} s; "
                  f"hl7apy would take about {messages / apy['per_s'] / 60:.1f} min just to parse them.", "",
              "## 7. DAG parse time per file", "", "| DAG file | seconds | target <= 0.5 s |", "|---|---|---|"]
    lines += [f"| {d['dag']} | {d['seconds']:.3f} | {'met' if d['seconds'] <= 0.5 else 'NOT met'} |" for d in dags]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        (ROOT / "bench" / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
