"""Triage one inbound file without a DAG: the same parse and validation code the pipeline runs.

The decision covers what the file itself decides (envelope, mapping,
critical expectations).  What depends on history - a duplicate interchange
or a re-sent remittance - needs the ledger and is decided only in a run.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from revcycle.errors import RevcycleError
from revcycle.pipeline.base import ParseContext, Source
from revcycle.pipeline.registry import sources
from revcycle.pipeline.stage import stage_file, validate_staged
from revcycle.storage import LocalLake


def detect_source(path: Path) -> Source:
    head = path.open("rb").read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"ISA") and len(head) > 106:
        element = chr(head[3])
        after = head[106:].decode("ascii", "replace").lstrip("\r\n~")
        fields = after.split(element)
        if fields and fields[0].strip() == "GS" and len(fields) > 1:
            kind = {"HP": "remittance", "HN": "claim_status"}.get(fields[1])
            if kind:
                return sources()[kind]
    raise RevcycleError("UNKNOWN_FILE_TYPE", "not a file type this version can inspect (835, 277)")


def inspect_path(path: Path, business_date: dt.date | None = None) -> dict:
    day = business_date or dt.date.today()
    try:
        source = detect_source(path)
    except RevcycleError as exc:
        return {"type": None, "quarantine": {"reason": exc.reason, "detail": exc.detail}}
    with tempfile.TemporaryDirectory() as tmp:
        lake = LocalLake(Path(tmp))
        ctx = ParseContext(sha256="inspect", original_name=path.name, business_date=day,
                           landed_at=dt.datetime(day.year, day.month, day.day), data_source=source.name, ack_dir=None)
        out: dict = {"type": {"remittance": "835", "claim_status": "277"}[source.name]}
        try:
            result, _ = stage_file(source, path, ctx, lake)
        except RevcycleError as exc:
            partial = getattr(exc, "partial", None)
            out.update({"interchanges": len(partial.interchanges) if partial else 0,
                        "transactions": [], "quarantine": {"reason": exc.reason, "detail": exc.detail}})
            return out
        outcome = validate_staged(source, lake, "inspect", day)
    verdict = outcome.quarantine_reason()
    out.update({
        "interchanges": result.control_totals.get("interchanges", len(result.interchanges)),
        "transactions": result.control_totals.get("transactions", []),
        "warnings": sorted({w.reason for w in outcome.warnings}),
        "quarantine": {"reason": verdict[0], "detail": verdict[1]} if verdict else None,
    })
    return out
