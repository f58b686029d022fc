"""Peak memory on a large 835: one generated interchange repeated with fresh control numbers up to a size.

    .venv/bin/python bench/big_835.py --mb 1024        # writes a temp file, parses it to records, prints RSS

Each repeat gets its own ISA13/IEA02 and GS06/GE02 (and so its own remittance keys are unchanged: the
point is the streaming parser's memory, not posting).  The parse runs in a child process whose peak RSS
(the worker's own VmHWM) is reported next to the reader-only pass, both over the same file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path


def build(target_mb: int, work: Path) -> Path:
    from revcycle.synthetic.day import generate_day

    generate_day(work / "seed", dt.date(2026, 11, 24), 2000, 5, supply_messages=5)
    seed = max((work / "seed" / "remittance").glob("*.835"), key=lambda p: p.stat().st_size)
    text = seed.read_text()
    element = text[3]
    first = text.index("ISA")
    interchange = text[first:]
    path = work / "big.835"
    n = 0
    with open(path, "w") as out:
        while out.tell() < target_mb * 1_000_000:
            n += 1
            control = f"{n:09d}"
            body = re.sub(
                rf"^(ISA(?:{re.escape(element)}[^{re.escape(element)}]*){{12}}{re.escape(element)})\d{{9}}",
                rf"\g<1>{control}",
                interchange,
                flags=re.M,
            )
            body = re.sub(
                rf"IEA{re.escape(element)}(\d+){re.escape(element)}\d{{9}}", rf"IEA{element}\1{element}{control}", body
            )
            out.write(body)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(args.mb, Path(tmp))
        size = path.stat().st_size / 1e6
        print(f"835 of {size:.0f} MB built")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from run import run_worker

        for name in ("revcycle_reader", "revcycle_835_records"):
            r = run_worker(name, path)
            print(json.dumps({"worker": name, "mb": round(size), **r}), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("REVCYCLE_TOKEN_KEY", "bench-token-key-0001")
    main()
