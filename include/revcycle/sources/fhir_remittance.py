"""The FHIR remittance source: a payer's Bulk Data export (PaymentReconciliation with its ExplanationOfBenefit
resources) mapped to the remittance canonical datasets and posted to ERP cash as an 835 is.

The export arrives through ``revcycle.adapters.fhir_bulk`` (one landed file an export); each line is checked
on its own (``revcycle.fhir.ndjson``), each payment mapped on its own (``revcycle.fhir.remittance``).  A bad
line or payment is rejected with its reason and kept in the quarantine folder; the file's other payments go
on.  A file in which nothing could be mapped is quarantined whole.
"""

from __future__ import annotations

import json
from pathlib import Path

from revcycle.adapters.storage import StagingWriter, private_dir, write_private
from revcycle.domain.datasets import lake_uri
from revcycle.errors import MappingError
from revcycle.fhir.ndjson import Rejected, read_lines, read_resources
from revcycle.fhir.remittance import map_payments
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.remittance import CHECKS, DATASETS, REMITTANCE, _emit_835, totals_of_sets

FHIR_TYPES = ("PaymentReconciliation", "ExplanationOfBenefit")


def parse_fhir_remittance(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    mapped = map_payments(read_resources(path))
    result = ParseResult()
    lineage = ctx.lineage()
    for rset in mapped.sets:
        _emit_835(rset, out, lineage, result)
    rejected = _keep(ctx, path, mapped.rejected)
    if not mapped.sets:
        if not rejected:
            raise MappingError("NO_RESOURCES", "no FHIR payment resource in the file")
        raise MappingError(
            "ALL_RESOURCES_REJECTED",
            f"all {len(rejected)} resources rejected ({', '.join(sorted({r['reason'] for r in rejected}))})",
        )
    result.sender_id = mapped.sets[0].interchange_sender
    result.transactions = [r.transaction_control for r in mapped.sets]
    result.control_totals.update(totals_of_sets(result.control_totals.get("transactions", [])))
    result.control_totals.update(
        {"format": "fhir-r4-ndjson", "rejected": rejected, "operation_outcomes": mapped.outcomes}
    )
    result.findings = [
        {"check": "fhir_resource", "line": r["line"], "resource_type": r["resource_type"], "reason": r["reason"]}
        for r in rejected
    ]
    return result


def _keep(ctx: ParseContext, path: Path, rejected: list[Rejected]) -> list[dict]:
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


FHIR_REMITTANCE = Source(
    name="fhir_remittance",
    inbound_subdir="fhir_remittance",
    patterns=("*.ndjson",),
    datasets=DATASETS,
    checks=CHECKS,
    parse=parse_fhir_remittance,
    post=REMITTANCE.post,
    asset_uri=lake_uri(DATASETS[0]),
    verify_posted=REMITTANCE.verify_posted,
    # The same payment from X12 and from FHIR is one business event: posted once, whichever came first.
    exclusive=REMITTANCE.exclusive,
    fhir_types=FHIR_TYPES,
)
