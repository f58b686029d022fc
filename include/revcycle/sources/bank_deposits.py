"""The bank deposit source: the bank's statement to canonical deposit lines for cash reconciliation, from any of
the three formats banks send (told apart by content, not by name):

- BAI2 (``bank/*.bai``, ``*.bai2``, ``*.txt`` starting with a 01 record): ``revcycle.bank.bai2``;
- ISO 20022 camt.053 (``bank/*.xml``): ``revcycle.bank.camt053``;
- the deposit report CSV (``bank/*.csv``), column contract (header required, any order):
deposit_date, bank_reference, originator_id (the payer's id, TRN03 / ACH originator), trace_number (TRN02,
the EFT trace or check number), amount (decimal, 2 places), deposit_type (ACH, CHECK, WIRE; optional).
Deposits are not ERP postings: they are published to the lake and read by the reconciliation DAG.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from revcycle.adapters.storage import StagingWriter
from revcycle.bank import bai2, camt053
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


def statement_format(path: Path) -> str:
    """By content, not by name: ``bai2`` (a 01 file header first), ``camt053`` (XML naming camt.053 near its
    start), ``xml`` (other XML: the camt.053 reader says why it is not one) or ``csv``."""
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"01,"):
        return "bai2"
    if head.startswith(b"<"):
        return "camt053" if b"camt.053" in head else "xml"
    return "csv"


def parse_deposits(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    fmt = statement_format(path)
    if fmt == "bai2":
        try:
            text = path.read_bytes().decode("ascii")
        except UnicodeDecodeError as exc:
            raise MappingError("BAI_SYNTAX", f"byte {exc.start}: BAI2 is ASCII") from None
        rows = [_row(d) for d in bai2.read(text)]
    elif fmt in ("camt053", "xml"):
        rows, fmt = [_row(d) for d in camt053.read(path.read_bytes())], "camt053"
    else:
        rows = _csv_rows(path)
    if not rows:
        raise MappingError("NO_ROWS", "the bank statement has no deposit")
    total = sum((r["amount"] for r in rows), Decimal("0"))
    out.write("canonical__bank_deposit", to_table("canonical__bank_deposit", rows, ctx.lineage()))
    result = ParseResult()
    result.control_totals = {"deposits": len(rows), "amount": str(total), "format": fmt}
    return result


def _row(d: bai2.Deposit) -> dict:
    return {
        "deposit_key": business_key("deposit", d.bank_reference),
        "bank_reference": d.bank_reference,
        "deposit_date": d.deposit_date,
        "originator_id": d.originator_id,
        "trace_number": d.trace_number,
        "amount": d.amount,
        "deposit_type": d.deposit_type,
        "source_line": d.source_line,
    }


def _csv_rows(path: Path) -> list[dict]:
    rows = []
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
    return rows


BANK_DEPOSITS = Source(
    name="bank_deposits",
    inbound_subdir="bank",
    patterns=("*.csv", "*.bai", "*.bai2", "*.txt", "*.xml"),
    datasets=DATASETS,
    checks=(),
    parse=parse_deposits,
    post=None,
    asset_uri=lake_uri(DATASETS[0]),
    contract=CONTRACT,
)
