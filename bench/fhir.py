"""FHIR NDJSON to canonical rows, for each FHIR route: resources per second against a plain ``fhir.resources``
parse of the same file.

    .venv/bin/python bench/fhir.py              # 5,000 claims / usages a route, writes its section of RESULTS.md
    .venv/bin/python bench/fhir.py --quick      # 500, prints only

For each route (remittance: PaymentReconciliation + ExplanationOfBenefit; claim status: ClaimResponse; supply:
ChargeItem + Device) one export file is written by the synthetic payer or EHR, its outputs joined as the Bulk
Data transport lands them.  Each worker runs in its own process on that file, timed up to 5 times while a run
takes under 2 s, the fastest kept:
- ``fhir_resources_parse``: the baseline, each line ``json.loads`` and validated by its R4B model class;
- ``revcycle_ndjson_check``: our line reader and structure check alone (``revcycle.fhir.ndjson``);
- ``revcycle_fhir_to_rows``: the whole route's parse: check, then map to the canonical records or rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

WORKERS = {
    "fhir_resources_parse": (
        "import json\nfrom decimal import Decimal\nfrom fhir.resources.R4B import get_fhir_model_class\n"
        "lines=open(P,'rb').read().splitlines()",
        "n=0\nfor line in lines:\n    o=json.loads(line, parse_float=Decimal)\n"
        "    get_fhir_model_class(o['resourceType']).model_validate(o); n+=1\nrows=0",
    ),
    "revcycle_ndjson_check": (
        "from pathlib import Path\nfrom revcycle.fhir.ndjson import read_resources",
        "items=list(read_resources(Path(P)))\nn=len(items)\nrows=0",
    ),
}
# The whole route's parse, by route: ``n`` resources read, ``rows`` canonical rows made.
TO_ROWS = {
    "remittance": (
        "from pathlib import Path\nfrom revcycle.fhir.ndjson import read_resources\n"
        "from revcycle.fhir.remittance import map_payments",
        "m=map_payments(read_resources(Path(P)))\nassert not m.rejected\n"
        "n=sum(1 + len(s.claim_payments) for s in m.sets)\n"
        "rows=sum(len(v) for s in m.sets for v in s.records().values())",
    ),
    "claim_status": (
        "from pathlib import Path\nfrom revcycle.fhir.ndjson import read_resources\n"
        "from revcycle.fhir.claim_status import map_statuses",
        "m=map_statuses(read_resources(Path(P)))\nassert not m.rejected\n"
        "n=m.status_set.claims\nrows=len(m.status_set.events)",
    ),
    "supply": (
        "from pathlib import Path\nfrom revcycle.fhir.ndjson import read_resources\n"
        "from revcycle.fhir.supply import map_usage",
        "m=map_usage(read_resources(Path(P)))\nassert not m.rejected\nn=len(m.rows)+m.devices\nrows=len(m.rows)",
    ),
}


def run_worker(name: str, path: Path, route: str) -> dict:
    setup, work = WORKERS[name] if name in WORKERS else TO_ROWS[route]
    code = (
        f"import time, json\nP={str(path)!r}\n{setup}\nbest=None\nfor _ in range(5):\n"
        f"    t=time.perf_counter()\n{textwrap.indent(work, '    ')}\n"
        "    s=time.perf_counter()-t\n    best=s if best is None else min(best, s)\n    if s > 2: break\n"
        "print(json.dumps({'resources': n, 'rows': rows, 'seconds': best}))"
    )
    env = dict(os.environ, REVCYCLE_TOKEN_KEY="bench-token-key-0001")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=3600)
    if out.returncode:
        raise SystemExit(f"{name} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from revcycle.synthetic.fhir_exports import export_file

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--claims", type=int, default=None)
    args = ap.parse_args()
    count = args.claims or (500 if args.quick else 5000)
    section = [
        f"Measured with `.venv/bin/python bench/fhir.py` on {dt.date.today()} ({os.cpu_count()} cores): for each "
        f"route one export of about {count:,} claims or usages. Ratios are against the plain `fhir.resources` "
        "parse of the same file in the same run.",
        "",
        "| route | worker | resources | seconds | resources/s | vs fhir.resources parse | canonical rows |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for route in TO_ROWS:
            path = export_file(route, count, Path(tmp))
            mb = path.stat().st_size / 1e6
            print(f"{route}: FHIR export of {mb:.1f} MB")
            rows = []
            for name in (*WORKERS, "revcycle_fhir_to_rows"):
                r = run_worker(name, path, route)
                r.update(name=name, per_s=r["resources"] / r["seconds"])
                rows.append(r)
                print(f"  {name:<24} {r['resources']:>7} in {r['seconds']:.2f}s = {r['per_s']:,.0f}/s", flush=True)
            base = rows[0]
            section += [
                f"| {route} ({mb:.1f} MB) | {r['name']} | {r['resources']:,} | {r['seconds']:.2f} | {r['per_s']:,.0f} | "
                f"{r['per_s'] / base['per_s']:.2f}x | {r['rows']:,} |"
                for r in rows
            ]
    text = "\n".join(section)
    print(text)
    if args.quick:
        return
    from results_file import write_section

    write_section("fhir", "FHIR NDJSON to canonical rows (bench/fhir.py)", text)


if __name__ == "__main__":
    main()
