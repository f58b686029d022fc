"""The FHIR remittance source: a payer's Bulk Data export (PaymentReconciliation with its ExplanationOfBenefit
resources) mapped to the remittance canonical datasets and posted to ERP cash as an 835 is.

The export arrives through ``revcycle.adapters.fhir_bulk`` (one landed file an export); each line is checked
on its own (``revcycle.fhir.ndjson``), each payment mapped on its own (``revcycle.fhir.remittance``).  A bad
line or payment is rejected with its reason and kept in the quarantine folder; the file's other payments go
on.  A file in which nothing could be mapped is quarantined whole.
"""

from __future__ import annotations

from pathlib import Path

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.datasets import lake_uri
from revcycle.fhir.ndjson import read_resources
from revcycle.fhir.remittance import map_payments
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.fhir_rejects import keep_rejected, nothing_mapped, with_rejected
from revcycle.sources.remittance import CHECKS, DATASETS, REMITTANCE, _emit_835, totals_of_sets

FHIR_TYPES = ("PaymentReconciliation", "ExplanationOfBenefit")


def parse_fhir_remittance(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    mapped = map_payments(read_resources(path, FHIR_TYPES))
    result = ParseResult()
    lineage = ctx.lineage()
    for rset in mapped.sets:
        _emit_835(rset, out, lineage, result)
    rejected = keep_rejected(ctx, path, mapped.rejected)
    if not mapped.sets:
        raise nothing_mapped(rejected, "payment")
    result.sender_id = mapped.sets[0].interchange_sender
    result.transactions = [r.transaction_control for r in mapped.sets]
    result.control_totals.update(totals_of_sets(result.control_totals.get("transactions", [])))
    return with_rejected(result, rejected, mapped.outcomes)


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
