"""The FHIR supply usage source: an EHR's Bulk Data export of ``ChargeItem`` resources (with the ``Device``
each names) mapped to the supply usage rows the HL7 DFT route fills, normalised against the item master,
checked by the same message rules, and posted to ERP inventory and consignment replenishment as a DFT is.

Each line is checked on its own (``revcycle.fhir.ndjson``) and each charge mapped on its own
(``revcycle.fhir.supply``); a bad one is rejected with its reason and kept in the quarantine folder, and the
file's other charges go on.  A file in which nothing could be mapped is quarantined whole.
"""

from __future__ import annotations

from pathlib import Path

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.datasets import lake_uri
from revcycle.fhir.ndjson import Rejected, read_resources
from revcycle.fhir.supply import map_usage
from revcycle.hl7.reader import HL7Error
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.fhir_rejects import keep_rejected, nothing_mapped, with_rejected
from revcycle.sources.supply_usage import DATASETS, SUPPLY_USAGE, UsageBatch, check_usage, finish_usage

FHIR_TYPES = ("ChargeItem", "SupplyDelivery", "Device")


def parse_fhir_supply(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    mapped = map_usage(read_resources(path, FHIR_TYPES))
    batch = UsageBatch(out, ctx.lineage())
    rejected = list(mapped.rejected)
    for line, row in zip(mapped.lines, mapped.rows, strict=True):
        try:
            usage = finish_usage(row, row["transaction_date"] or ctx.business_date)
            check_usage(usage, f"line {line}")
        except HL7Error as exc:  # the message rules a DFT's FT1 meets, by the same reasons
            rejected.append(Rejected(line, "ChargeItem", "", exc.reason, exc.detail))
            continue
        batch.add([usage])
    batch.flush()
    kept = keep_rejected(ctx, path, sorted(rejected, key=lambda r: r.line))
    if not batch.totals:
        raise nothing_mapped(kept, "charge")
    result = ParseResult()
    result.control_totals = {
        "charges": len(mapped.rows),
        "devices": mapped.devices,
        "usage_lines": sum(batch.totals.values()),
        "items": dict(batch.totals),
        "charge_amount": str(batch.charge),
        "quantity": str(batch.quantity),
    }
    return with_rejected(result, kept, mapped.outcomes)


FHIR_SUPPLY_USAGE = Source(
    name="fhir_supply_usage",
    inbound_subdir="fhir_supply_usage",
    patterns=("*.ndjson",),
    datasets=DATASETS,
    checks=SUPPLY_USAGE.checks,
    parse=parse_fhir_supply,
    post=SUPPLY_USAGE.post,
    asset_uri=lake_uri(DATASETS[0]),
    fhir_types=FHIR_TYPES,
    fhir_conn_setting="fhir_ehr_conn_id",
)
