"""Stage 5: Great Expectations' share of the per-file step time, the three ways a validate task can meet GX.

    .venv/bin/python bench/gx_share.py --mode fork_preloaded --claims 5000     # one mode, prints JSON

Modes (each run in a fresh process by bench/run.py, so no mode inherits another's imports):
  warm            every step of every file in one process that imported GX first (``dags test``, run-day);
  fork_cold       each step in its own process forked from a parent that never imported GX, as an Airflow
                  worker forks each task try: every validate task pays GX's import;
  fork_preloaded  the same, from a parent that ran ``revcycle.airflow.preload`` of revcycle.adapters.validation first, as the
                  docker-compose worker does (REVCYCLE_PRELOAD); the parent's one import is reported apart.
GX time is the wall time inside ``validate_frames`` (which includes the import when a task pays it); the
share is GX time over the summed step times of all files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

STEPS = ("parse", "validate", "publish", "post")
DAY = dt.date(2026, 11, 24)


def _timed_step(step: str, sha: str) -> dict:
    import revcycle.adapters.validation as validation
    from revcycle.pipeline import steps

    real = validation.validate_frames
    gx = 0.0

    def timed(frames, day, *args, **kwargs):
        nonlocal gx
        t0 = time.perf_counter()
        try:
            return real(frames, day, *args, **kwargs)
        finally:
            gx += time.perf_counter() - t0

    validation.validate_frames = timed
    try:
        t0 = time.perf_counter()
        getattr(steps, step)("remittance", sha)
        return {"seconds": time.perf_counter() - t0, "gx": gx}
    finally:
        validation.validate_frames = real


def _in_child(step: str, sha: str) -> dict:
    """Run one step in a forked process (an Airflow task try) and return its timings."""
    from revcycle.adapters import db

    for name in ("erp", "ops"):  # no open database connection crosses the fork
        db.engine_for(name).dispose()
    db.reset_engines()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            os.write(write, json.dumps(_timed_step(step, sha)).encode())
        except BaseException:  # noqa: BLE001 - reported by the parent through the exit code
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os.close(write)
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{step} of {sha[:12]} failed in its task process")
    return json.loads(data)


def measure(mode: str, claims: int, work: Path) -> dict:
    os.environ["REVCYCLE_HOME"] = str(work / "home")
    os.environ.setdefault("REVCYCLE_TOKEN_KEY", "bench-token-key-0001")
    from revcycle import settings
    from revcycle.pipeline import steps
    from revcycle.synthetic.day import generate_day

    s = settings.get_settings()
    generate_day(s.inbound, DAY, claims, 4, supply_messages=10)
    files = steps.land("remittance", DAY)["files"]
    start_up = 0.0
    if mode == "fork_cold":
        assert "great_expectations" not in sys.modules, "the cold parent must not have imported GX"
    elif mode == "fork_preloaded":
        from revcycle.airflow.preload import preload

        t0 = time.perf_counter()
        preload("revcycle.adapters.validation")
        start_up = time.perf_counter() - t0
    elif mode == "warm":
        from revcycle.adapters.validation import _gx

        t0 = time.perf_counter()
        _gx()
        start_up = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    times = dict.fromkeys(STEPS, 0.0)
    gx = 0.0
    for sha in files:
        for step in STEPS:
            r = _timed_step(step, sha) if mode == "warm" else _in_child(step, sha)
            times[step] += r["seconds"]
            gx += r["gx"]
    # A step that fails quarantines its file and returns: a quick "step" that did nothing must not count.
    from revcycle.adapters import ledger

    states = {r["sha256"]: r["state"] for r in ledger.for_day(DAY)}
    stuck = [sha[:12] for sha in files if states.get(sha) != "posted"]
    if stuck:
        raise SystemExit(f"files not posted (see the quarantine): {', '.join(stuck)}")
    total = sum(times.values())
    return {
        "mode": mode,
        "files": len(files),
        "steps": times,
        "total": total,
        "gx_seconds": gx,
        "share": gx / total,
        "parent_start_up": start_up,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=("warm", "fork_cold", "fork_preloaded"))
    ap.add_argument("--claims", type=int, default=5000)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    print(json.dumps(measure(args.mode, args.claims, args.work)))


if __name__ == "__main__":
    main()
