"""The FHIR claim status source: a payer's Bulk Data export of ``ClaimResponse`` resources mapped to the claim
status events the 277 route fills, validated with its suite and posted to the same ERP status tables.

The export arrives through ``revcycle.adapters.fhir_bulk`` (one landed file an export); each line is checked on
its own (``revcycle.fhir.ndjson``) and each response mapped on its own (``revcycle.fhir.claim_status``).  A bad
line or response is rejected with its reason and kept in the quarantine folder; the file's other responses go
on.  A file in which nothing could be mapped is quarantined whole.
"""

from __future__ import annotations

from pathlib import Path

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.datasets import lake_uri
from revcycle.fhir.claim_status import map_statuses
from revcycle.fhir.ndjson import read_resources
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.claim_status import CLAIM_STATUS, DATASETS, emit_status_set
from revcycle.sources.fhir_rejects import keep_rejected, nothing_mapped, with_rejected

FHIR_TYPES = ("ClaimResponse",)


def parse_fhir_claim_status(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    mapped = map_statuses(read_resources(path, FHIR_TYPES))
    result = ParseResult()
    rejected = keep_rejected(ctx, path, mapped.rejected)
    sset = mapped.status_set
    if sset is None:
        raise nothing_mapped(rejected, "claim status")
    emit_status_set(sset, out, ctx.lineage(), result)
    result.sender_id = sset.interchange_sender
    result.transactions = [sset.transaction_control]
    result.control_totals.update({"claims": sset.claims, "stc_composites": len(sset.events)})
    return with_rejected(result, rejected, mapped.outcomes)


FHIR_CLAIM_STATUS = Source(
    name="fhir_claim_status",
    inbound_subdir="fhir_claim_status",
    patterns=("*.ndjson",),
    datasets=DATASETS,
    checks=CLAIM_STATUS.checks,
    parse=parse_fhir_claim_status,
    post=CLAIM_STATUS.post,
    asset_uri=lake_uri(DATASETS[0]),
    fhir_types=FHIR_TYPES,
)
