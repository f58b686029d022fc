"""The bank deposit source: the bank's deposit report (CSV) to canonical deposit lines for cash reconciliation.

Column contract (``bank/*.csv``; header required, any order):
deposit_date, bank_reference, originator_id (the payer's id, TRN03 / ACH originator), trace_number (TRN02,
the EFT trace or check number), amount (decimal, 2 places), deposit_type (ACH, CHECK, WIRE; optional).
Deposits are not ERP postings: they are published to the lake and read by the reconciliation DAG.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from revcycle.adapters.storage import StagingWriter
from revcycle.delimited.contract import Contract, date_field, decimal_field, read_rows
from revcycle.domain.canonical import to_table
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.keys import business_key
from revcycle.errors import MappingError
from revcycle.sources.base import ParseContext, ParseResult, Source

DATASETS = SOURCE_DATASETS["bank_deposits"]
CONTRACT = Contract(
    "bank deposits",
    required=("deposit_date", "bank_reference", "originator_id", "trace_number", "amount"),
    optional=("deposit_type",),
)


def parse_deposits(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    rows, total = [], Decimal("0")
    for line_no, r in read_rows(path, CONTRACT):
        amount = decimal_field(r, "amount", line_no)
        if amount.as_tuple().exponent < -2:
            raise MappingError("BAD_AMOUNT_SCALE", f"line {line_no}: amount has more than 2 decimals")
        rows.append(
            {
                "deposit_key": business_key("deposit", r["bank_reference"]),
                "bank_reference": r["bank_reference"],
                "deposit_date": date_field(r, "deposit_date", line_no),
                "originator_id": r["originator_id"],
                "trace_number": r["trace_number"],
                "amount": amount,
                "deposit_type": r.get("deposit_type") or None,
                "source_line": line_no,
            }
        )
        total += amount
    if not rows:
        raise MappingError("NO_ROWS", "the deposit report has a header and no lines")
    out.write("canonical__bank_deposit", to_table("canonical__bank_deposit", rows, ctx.lineage()))
    result = ParseResult()
    result.control_totals = {"deposits": len(rows), "amount": str(total)}
    return result


BANK_DEPOSITS = Source(
    name="bank_deposits",
    inbound_subdir="bank",
    patterns=("*.csv",),
    datasets=DATASETS,
    checks=(),
    parse=parse_deposits,
    post=None,
    asset_uri=lake_uri(DATASETS[0]),
    contract=CONTRACT,
)
