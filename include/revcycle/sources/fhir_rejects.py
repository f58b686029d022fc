"""What every FHIR source does with the lines and resources it refused: each kept in the quarantine folder with
its reason (PHI may be in it: nowhere else), and named in the file's control totals and findings by line,
type and reason only (no values)."""

from __future__ import annotations

import json
from pathlib import Path

from revcycle.adapters.storage import private_dir, write_private
from revcycle.errors import MappingError
from revcycle.fhir.ndjson import Rejected, read_lines
from revcycle.sources.base import ParseContext, ParseResult


def keep_rejected(ctx: ParseContext, path: Path, rejected: list[Rejected]) -> list[dict]:
    """Keep the rejected lines (PHI: the quarantine folder only), read in one pass over the file; return their
    pointers (no values)."""
    pointers = [{"line": r.line, "resource_type": r.resource_type, "reason": r.reason} for r in rejected]
    if ctx.reject_dir is None or not rejected:
        return pointers
    private_dir(ctx.reject_dir)
    wanted = {r.line for r in rejected}
    lines = {n: text for n, text in read_lines(path) if n in wanted}
    for r, pointer in zip(rejected, pointers, strict=True):
        stem = f"{ctx.sha256[:16]}_{r.line:06d}"
        write_private(ctx.reject_dir / f"{stem}.ndjson", lines.get(r.line, b"").decode("utf-8", "replace"))
        write_private(
            ctx.reject_dir / f"{stem}.reason.json",
            json.dumps({"file_sha256": ctx.sha256, **pointer, "detail": r.detail}, indent=2),
        )
    return pointers


def nothing_mapped(rejected: list[dict], what: str) -> MappingError:
    """The error of a file in which nothing could be mapped: it is quarantined whole."""
    if not rejected:
        return MappingError("NO_RESOURCES", f"no FHIR {what} resource in the file")
    reasons = ", ".join(sorted({r["reason"] for r in rejected}))
    return MappingError("ALL_RESOURCES_REJECTED", f"all {len(rejected)} resources rejected ({reasons})")


def with_rejected(result: ParseResult, rejected: list[dict], outcomes: int) -> ParseResult:
    result.control_totals.update({"format": "fhir-r4-ndjson", "rejected": rejected, "operation_outcomes": outcomes})
    result.findings = [
        {"check": "fhir_resource", "line": r["line"], "resource_type": r["resource_type"], "reason": r["reason"]}
        for r in rejected
    ]
    return result
