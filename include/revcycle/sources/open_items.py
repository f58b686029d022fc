"""The open-items source: the billing system's open accounts-receivable snapshot (CSV) to the ERP.

Column contract (``billing/*.csv``, header required, any order, extra columns ignored):

| column                      | required | meaning                                             |
|-----------------------------|----------|-----------------------------------------------------|
| patient_control_number      | yes      | CLM01 of the 837 (echoed as CLP01 / 277 TRN02)      |
| payer_id                    | yes      | payer identifier (routes the 276)                   |
| payer_claim_control_number  | no       | the payer's claim number once known (CLP07, 1K)     |
| billed_amount               | yes      | total claim charge, decimal                         |
| service_date_from / _to     | yes / no | claim service period (YYYY-MM-DD, YYYYMMDD, M/D/Y)  |
| submitted_date              | yes      | date the claim went to the payer                    |
| billing_provider_npi        | no       | billing provider NPI                                |
| subscriber_last_name, subscriber_first_name, member_id, subscriber_birth_date, subscriber_gender | no | PHI for the 276 only |

Only the member id's token reaches the lake and the ERP; names, birth dates
and gender are never copied out of the raw file.  When a 276 is written, they
are read again from the raw zone (``demographics``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.delimited.contract import Contract, date_field, decimal_field, read_rows
from revcycle.domain.canonical import to_table
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.keys import business_key
from revcycle.domain.phi import tokenise
from revcycle.errors import MappingError
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.claim_status import claim_key

DATASETS = SOURCE_DATASETS["open_items"]
CONTRACT = Contract(
    "open A/R snapshot",
    required=("patient_control_number", "payer_id", "billed_amount", "service_date_from", "submitted_date"),
    optional=("payer_claim_control_number", "service_date_to", "billing_provider_npi", "member_id"),
)
DEMOGRAPHICS = Contract(
    "open A/R demographics",
    required=(
        "patient_control_number",
        "payer_id",
        "subscriber_last_name",
        "subscriber_first_name",
        "member_id",
        "subscriber_birth_date",
    ),
    optional=("subscriber_gender",),
)
BATCH = 50_000


def parse_open_items(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = ParseResult()
    lineage = ctx.lineage()
    rows: list[dict] = []
    total = 0
    billed = 0
    for line_no, r in read_rows(path, CONTRACT):
        amount = decimal_field(r, "billed_amount", line_no)
        if amount.as_tuple().exponent < -2:
            raise MappingError("BAD_AMOUNT_SCALE", f"line {line_no}: billed_amount has more than 2 decimals")
        start = date_field(r, "service_date_from", line_no)
        rows.append(
            {
                "open_item_key": business_key(
                    "open_item", r["payer_id"], r["patient_control_number"], ctx.business_date
                ),
                "claim_key": claim_key(r["payer_id"], r["patient_control_number"]),
                "payer_id": r["payer_id"] or None,
                "patient_control_number": r["patient_control_number"] or None,
                "payer_claim_control_number": r.get("payer_claim_control_number") or None,
                "billed_amount": amount,
                "service_date_from": start,
                "service_date_to": date_field(r, "service_date_to", line_no, required=False) or start,
                "submitted_date": date_field(r, "submitted_date", line_no),
                "billing_provider_npi": r.get("billing_provider_npi") or None,
                "member_token": tokenise(r.get("member_id")),
                "source_line": line_no,
            }
        )
        total += 1
        billed += amount
        if len(rows) >= BATCH:
            out.write("canonical__claim_open_item", to_table("canonical__claim_open_item", rows, lineage))
            rows = []
    out.write("canonical__claim_open_item", to_table("canonical__claim_open_item", rows, lineage))
    result.control_totals = {"rows": total, "billed_amount": str(billed)}
    return result


def post_open_items(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    """The snapshot replaces older ones claim by claim; claims absent from it keep their older as-of date."""
    items = [
        {
            "claim_key": r["claim_key"],
            "payer_id": r["payer_id"],
            "patient_control_number": r["patient_control_number"],
            "payer_claim_control_number": r["payer_claim_control_number"],
            "billed_amount": r["billed_amount"],
            "service_date_from": r["service_date_from"],
            "service_date_to": r["service_date_to"],
            "submitted_date": r["submitted_date"],
            "member_token": r["member_token"],
            "as_of_date": business_date,
            "source_sha256": sha256,
            "source_line": r["source_line"],
        }
        for r in tables["canonical__claim_open_item"].to_pylist()
    ]
    return {"ar_open_item": items}


def demographics(raw_path: str, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """(payer, patient control number) -> subscriber fields, read from the raw snapshot for the 276 writer."""
    found = {}
    for line_no, r in read_rows(Path(raw_path), DEMOGRAPHICS):
        key = (r["payer_id"], r["patient_control_number"])
        if key in wanted:
            r["subscriber_birth_date"] = date_field(r, "subscriber_birth_date", line_no)
            found[key] = r
    return found


OPEN_ITEMS = Source(
    name="open_items",
    inbound_subdir="billing",
    patterns=("*.csv",),
    datasets=DATASETS,
    checks=(),
    parse=parse_open_items,
    post=post_open_items,
    asset_uri=lake_uri(DATASETS[0]),
    contract=CONTRACT,
)
