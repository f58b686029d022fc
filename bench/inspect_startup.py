"""`revcycle inspect` start-up on a one-claim 835: the command as a person runs it, with and without Great
Expectations (issue 28, target 7: at most 1.5 s while it still gives the pipeline's decision).

    .venv/bin/python bench/inspect_startup.py          # 7 runs each, writes its section of bench/RESULTS.md
    .venv/bin/python bench/inspect_startup.py --quick  # 3 runs each, prints only

Each command runs in a fresh process, as from a terminal; the median wall time is kept.  Baselines measured in
the same run: Python's own start-up (``python -c pass``), and importing Great Expectations alone.  ``inspect
--gx`` is the same decision with GX loaded (what ``inspect`` did before: the suites evaluated by GX itself).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5


def one_claim_835(work: Path) -> Path:
    from revcycle.synthetic import remittance_835
    from revcycle.synthetic.identities import PAYERS

    day, payer = dt.date(2026, 11, 24), PAYERS[0]
    psets = list(remittance_835.payment_sets(random.Random(1), payer, day, 1, 1, itertools.count(1)))
    path = work / "one-claim.835"
    remittance_835.write_835_file(path, payer, day, [psets], 100)
    return path


def timed(command: list[str], env: dict, runs: int, expect: int = 0) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        seconds.append(time.perf_counter() - start)
        if out.returncode != expect:
            raise SystemExit(f"{command[-1]}: exit {out.returncode}: {out.stderr[-2000:]}")
    return statistics.median(seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    runs = 3 if args.quick else 7
    revcycle = str(Path(sys.executable).with_name("revcycle"))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, REVCYCLE_HOME=str(Path(tmp) / "home"), REVCYCLE_TOKEN_KEY="bench-token-key-0001")
        path = one_claim_835(Path(tmp))
        rows = [
            ("python -c pass", timed([sys.executable, "-c", "pass"], env, runs)),
            (
                "python -c 'import great_expectations'",
                timed([sys.executable, "-c", "import great_expectations"], env, runs),
            ),
            ("revcycle inspect (suites without GX)", timed([revcycle, "inspect", str(path)], env, runs)),
            ("revcycle inspect --gx", timed([revcycle, "inspect", str(path), "--gx"], env, runs)),
        ]
    for name, s in rows:
        print(f"  {name:<42} {s:6.2f}s", flush=True)
    ours, with_gx = rows[2][1], rows[3][1]
    verdict = "met" if ours <= TARGET else "not met"
    text = "\n".join(
        [
            f"Measured with `.venv/bin/python bench/inspect_startup.py` on {dt.date.today()} ({os.cpu_count()} cores): "
            f"median of {runs} runs, each a fresh process on a one-claim 835.",
            "",
            "| command | seconds | vs `inspect --gx` |",
            "|---|---|---|",
            *(f"| `{name}` | {s:.2f} | {s / with_gx:.2f}x |" for name, s in rows),
            "",
            f"Target: a one-file `inspect` in at most {TARGET} s with the pipeline's decision: **{verdict}** "
            f"({ours:.2f} s, {with_gx / ours:.1f}x faster than with GX loaded). The suites are evaluated by "
            "`revcycle.adapters.suite_check`, which `tests/unit/adapters/test_suite_check.py` holds to GX itself; "
            "the same test fails if GX, Airflow, SQLAlchemy or the FHIR models are imported by `inspect` again.",
        ]
    )
    print(text)
    if not args.quick:
        from results_file import write_section

        write_section("inspect-startup", "`revcycle inspect` start-up (bench/inspect_startup.py)", text)


if __name__ == "__main__":
    main()
