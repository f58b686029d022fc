"""Triage one inbound file without a DAG: the pipeline's own decision, from the pipeline's own code.

The type is found the way the pipeline reads it: an X12 file by the X12
reader itself (GS01 of its first group names the source), an HL7 batch by the
supply source's HL7 test, a FHIR NDJSON export by its first line (a JSON resource),
a CSV by the contract whose columns its header names.
The file is then staged and validated by the same functions the DAG steps call,
and a failure turns into the same reason.  What depends on history - a
duplicate interchange, a payment posted from another file - needs the ledger
and is decided only in a run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from pathlib import Path

from revcycle.adapters.lake import Lake
from revcycle.errors import RevcycleError, X12Error
from revcycle.pipeline.stage import failure_reason, stage_file, validate_staged
from revcycle.sources.base import ParseContext, ParseFailure, Source
from revcycle.sources.registry import sources

# GS01 functional identifier -> (what inspect calls the type, the source that reads it).
X12_TYPES = {
    "HP": ("835", "remittance"),
    "HN": ("277", "claim_status"),
    "FA": ("999", "payer_acks"),
    "HR": ("276", None),
}
UNKNOWN_REASON = "UNKNOWN_FILE_TYPE"


def _x12_group(path: Path) -> tuple[str | None, X12Error | None]:
    """GS01 (and GS08) of the first group as the X12 reader meets it, or the reader's refusal before it."""
    from revcycle.x12.reader import X12Reader

    with open(path, "rb") as stream:
        reader = X12Reader(stream)
        try:
            for seg in reader:
                if seg[0] == "GS":
                    return (seg[1] if len(seg) > 1 else ""), None
        except X12Error as exc:
            return None, exc
    if reader.interchanges:  # read to the end: interchanges without a functional group
        return None, X12Error("NO_TRANSACTION_SETS", "no interchange of the file carries a transaction set")
    return None, None


def _csv_source(path: Path) -> Source | None:
    """The CSV source whose contract the header matches best (all required columns, else the most).
    The header is read in the encoding every CSV source would read it in (``detect_encoding``, which
    refuses a file no CSV source could read, as they would)."""
    from revcycle.delimited.contract import Contract, detect_encoding

    with open(path, encoding=detect_encoding(path), newline="") as fh:
        header = fh.readline(65536)
    names = {h.strip().lower() for h in header.replace(";", ",").replace("|", ",").replace("\t", ",").split(",")}
    best, score = None, 0
    for source in sources().values():
        contract = getattr(source, "contract", None)
        if not isinstance(contract, Contract):
            continue
        present = sum(c in names for c in contract.required) / len(contract.required)
        if present > score:
            best, score = source, present
    return best


_RESOURCE_TYPE = re.compile(rb'"resourceType"\s*:\s*"([A-Za-z]+)"')


def _ndjson_source(path: Path) -> str | None:
    """The FHIR source of a Bulk Data file (its first non-blank line is a JSON object naming a resourceType):
    the source that reads the first resource type it names, else the remittance one (which refuses it)."""
    from revcycle.fhir.ndjson import read_lines
    from revcycle.sources.registry import sources

    readers = {t.encode(): s.name for s in sources().values() for t in s.fhir_types}
    lines = read_lines(path)
    first = next(lines, (0, b""))[1]
    if not (first.lstrip().startswith(b"{") and b'"resourceType"' in first):
        return None
    for line in itertools.chain([first], (text for _, text in lines)):
        found = _RESOURCE_TYPE.search(line)
        if found and found.group(1) in readers:
            return readers[found.group(1)]
    return "fhir_remittance"


def detect(path: Path) -> tuple[str | None, Source | None, RevcycleError | None]:
    """(type, source, refusal): the source that would read the file, or the reason no source can."""
    from revcycle.sources.bank_deposits import statement_format
    from revcycle.sources.supply_usage import is_hl7

    gs01, refusal = _x12_group(path)
    if gs01 is not None:
        kind, name = X12_TYPES.get(gs01, (f"X12 {gs01[:2]}", None))
        return kind, sources()[name] if name else None, None
    if refusal is not None and refusal.reason not in ("NOT_X12", "EMPTY_FILE"):
        return "X12", None, refusal  # an X12 file whose envelope fails before any group
    if refusal is not None and refusal.reason == "EMPTY_FILE":
        return None, None, refusal  # every source refuses an empty file alike
    if is_hl7(path):
        return "HL7", sources()["supply_usage"], None
    if fhir := _ndjson_source(path):
        return "FHIR NDJSON", sources()[fhir], None
    fmt = statement_format(path)
    if fmt in ("bai2", "camt053"):
        return {"bai2": "BAI2", "camt053": "camt.053"}[fmt] + " bank statement", sources()["bank_deposits"], None
    try:
        source = _csv_source(path)
    except RevcycleError as exc:
        return "CSV", None, exc
    if source is not None:
        return f"CSV ({source.name})", source, None
    return None, None, None


def _inspect_276(path: Path) -> dict:
    """A 276 is written by the pipeline, not received: inspect checks that it reads as one."""
    from revcycle.x12.inquiry import read_inquiries

    try:
        sets = read_inquiries(path)
    except RevcycleError as exc:
        return {"quarantine": {"reason": exc.reason, "detail": exc.detail}}
    return {
        "transactions": [{"st02": s.transaction_control, "claims": len(s.claims)} for s in sets],
        "quarantine": None,
    }


def inspect_path(path: Path, business_date: dt.date | None = None, gx: bool = False) -> dict:
    """The pipeline's decision for one file; its suites evaluated without loading Great Expectations unless
    ``gx`` (the same outcomes: ``revcycle.adapters.suite_check``)."""
    day = business_date or dt.date.today()
    kind, source, refusal = detect(path)
    out: dict = {"type": kind, "source": source.name if source else None}
    if refusal is not None:
        out["quarantine"] = {"reason": refusal.reason, "detail": refusal.detail}
        return out
    if kind == "276":
        out.update(_inspect_276(path))
        return out
    if source is None:
        out["quarantine"] = {
            "reason": UNKNOWN_REASON,
            "detail": "not a file type revcycle reads (X12 835, 277, 277CA, 999, 276; HL7 DFT; FHIR NDJSON; the CSV contracts)",
        }
        return out
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(tmp)
        ctx = ParseContext(
            sha256="inspect",
            original_name=path.name,
            business_date=day,
            landed_at=dt.datetime(day.year, day.month, day.day),
            data_source=source.name,
            ack_dir=None,
        )
        try:
            result, staged = stage_file(source, path, ctx, lake)
        except Exception as exc:
            why = failure_reason(exc, "parse")
            if why is None:
                raise
            partial = exc.partial if isinstance(exc, ParseFailure) else None
            out.update(
                {
                    "interchanges": len(partial.interchanges) if partial else 0,
                    "quarantine": {"reason": why[0], "detail": why[1]},
                }
            )
            return out
        try:
            outcome = validate_staged(source, lake, "inspect", day, gx)
        except Exception as exc:
            why = failure_reason(exc, "validate")
            if why is None:
                raise
            out["quarantine"] = {"reason": why[0], "detail": why[1]}
            return out
    verdict = outcome.quarantine_reason()
    totals = dict(result.control_totals)
    rejected = totals.pop("rejected", [])
    out.update(
        {
            "interchanges": totals.pop("interchanges", len(result.interchanges)),
            "transactions": totals.pop("transactions", []),
            "rows": staged,
            "totals": totals,
            "rejected": rejected,
            "warnings": sorted(
                {w.reason for w in outcome.warnings}
                | {f["reason"] for f in result.findings if f.get("check") == "envelope"}
            ),
            "quarantine": {"reason": verdict[0], "detail": verdict[1]} if verdict else None,
        }
    )
    return out
