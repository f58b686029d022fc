"""The reconciled extracts finance reads: their column contracts, the files of a day, their control totals.

``outbound/finance/<day>/`` (kept with the other files the deployment keeps):
    <extract>.csv          UTF-8 with a BOM (Excel), CRLF, a header row; empty cell = no value
    <extract>.parquet      the same rows with their Arrow types (decimal128 amounts, date32 dates)
    control_totals.csv     one row per extract and amount column: rows, the column's sum, the source
                           total it ties out to and ``tie_out``: pass, fail or no source
    schema.json            every column's type and meaning, and how to read the CSV with pandas
The lake keeps the Parquet too (``recon__<extract>/business_date=D/<extract>.parquet``), and ``ops.recon_run``
records each extract's row count, control totals and both files' sha256.

Reading a CSV with the documented types keeps identifiers as text (leading zeros stay) and amounts exact::

    meta = json.load(open("schema.json"))["extracts"]["cash"]["pandas"]
    frame = pd.read_csv("cash.csv", encoding="utf-8-sig", dtype=meta["dtype"], parse_dates=meta["dates"],
                        converters={c: lambda v: Decimal(v) if v else None for c in meta["decimals"]})
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa

from revcycle.adapters.db import as_date, engine_for, query
from revcycle.adapters.lake import Lake, parquet_bytes
from revcycle.adapters.objectstore import keep
from revcycle.adapters.storage import write_atomic
from revcycle.domain.decimals import CENT
from revcycle.settings import get_settings

MONEY, QTY, PRICE = pa.decimal128(18, 2), pa.decimal128(18, 3), pa.decimal128(18, 4)
TEXT, DATE, INT, BOOL = pa.string(), pa.date32(), pa.int32(), pa.bool_()
_KEY = "business key (32 hex), stable across replays"

# name -> (what one row is, [(column, type, meaning)])
CONTRACTS: dict[str, tuple[str, list[tuple[str, pa.DataType, str]]]] = {
    "cash": (
        "one 835 payment (credit, BPR02 > 0) with its bank deposit lines and ERP cash receipt, or one group of "
        "deposit lines no remittance explains",
        [
            ("payer_id", TEXT, "payer identifier (835 TRN03 / deposit originator)"),
            ("payer_name", TEXT, "payer name (835 N1*PR N102); empty when no remittance of the payer is known"),
            ("trace_number", TEXT, "check or EFT trace number (835 TRN02)"),
            ("payment_date", DATE, "payment date (835 BPR16)"),
            ("payment_amount", MONEY, "payment amount (835 BPR02)"),
            ("deposit_count", INT, "bank deposit lines paired with the payment"),
            ("deposit_amount", MONEY, "sum of those deposit lines"),
            ("first_deposit_date", DATE, "earliest of their deposit dates"),
            ("erp_receipt_amount", MONEY, "ERP cash receipt posted for the payment"),
            ("difference", MONEY, "deposit_amount - payment_amount"),
            (
                "status",
                TEXT,
                "matched, split_deposit_matched, payment_without_deposit, deposit_amount_difference, "
                "erp_receipt_difference, payment_not_in_erp, deposit_without_remittance",
            ),
            ("remittance_key", TEXT, _KEY),
        ],
    ),
    "claims": (
        "one 835 claim payment, ERP application without a payment, paid 277 status without remittance, or "
        "aging open A/R claim",
        [
            ("payer_id", TEXT, "payer identifier"),
            ("patient_control_number", TEXT, "provider's claim identifier (CLP01 / 277 TRN02)"),
            ("payer_claim_control_number", TEXT, "payer's claim control number (CLP07 / 277 REF*1K)"),
            ("claim_status_code", TEXT, "835 CLP02 (1 primary, 4 denied, 22 reversal, ...)"),
            ("is_reversal", BOOL, "CLP02 = 22"),
            ("corrected", BOOL, "a reversal whose corrected claim is in the lake"),
            ("billed_amount", MONEY, "total claim charge: CLP03, 277 STC04 or the open A/R item"),
            ("paid_amount", MONEY, "claim paid amount (CLP04, or 277 STC05 for a paid status)"),
            ("applied_amount", MONEY, "amount applied to the claim in the ERP"),
            ("status_category", TEXT, "latest 277 STC01-1 category"),
            ("status_code", TEXT, "latest 277 STC01-2 status"),
            ("submitted_date", DATE, "billing date of an open A/R claim"),
            ("aging_days", INT, "days from submitted_date to the business day (aging claims)"),
            ("aging_bucket", TEXT, "21-30, 31-60, 61-90 or 91+"),
            (
                "status",
                TEXT,
                "matched, reversal, paid_not_posted, posted_not_paid, status_paid_no_remittance, no_remittance",
            ),
            ("claim_payment_key", TEXT, _KEY),
        ],
    ),
    "denials": (
        "one payer, CAS group and reason of denied claims (CLP02 = 4)",
        [
            ("payer_id", TEXT, "payer identifier"),
            ("group_code", TEXT, "CAS01 group (CO, PR, OA, PI, CR)"),
            ("reason_code", TEXT, "CAS02 claim adjustment reason code"),
            ("claims", INT, "denied claims with the adjustment"),
            ("amount", MONEY, "sum of the adjustment amounts (CAS03), claim and line level"),
        ],
    ),
    "supply": (
        "one implant usage or supplier invoice line and its matching outcome",
        [
            ("status", TEXT, "matched or the exception (invoice_without_usage, price_variance, ...)"),
            ("supplier_id", TEXT, "supplier identifier"),
            ("erp_item_id", TEXT, "ERP item identifier"),
            ("serial", TEXT, "implant serial number"),
            ("lot", TEXT, "lot number"),
            ("usage_quantity", QTY, "quantity used (HL7 FT1 / CSV export)"),
            ("invoice_quantity", QTY, "quantity invoiced"),
            ("expected_unit_price", PRICE, "contract price from the item master"),
            ("invoice_unit_price", PRICE, "price on the invoice"),
            ("amount_at_stake", MONEY, "money the exception puts at risk"),
            ("request_key", TEXT, _KEY),
            ("invoice_line_key", TEXT, _KEY),
        ],
    ),
    "exceptions": (
        "one open exception of the queue as of the business day",
        [
            ("item_key", TEXT, _KEY),
            ("category", TEXT, "what broke (see include/config/exception_routing.csv)"),
            ("reference", TEXT, "business reference: payer|trace, patient control number, serial or lot"),
            ("owner_team", TEXT, "team that owns the fix"),
            ("source", TEXT, "cash, claims or supply"),
            ("amount_at_stake", MONEY, "money at stake"),
            ("detail", TEXT, "short description (no patient data)"),
            ("first_seen", DATE, "business day the item was first found"),
            ("age_days", INT, "days from first_seen to the business day"),
        ],
    ),
}
EXTRACTS: dict[str, pa.Schema] = {
    name: pa.schema([(c, kind) for c, kind, _ in columns]) for name, (_, columns) in CONTRACTS.items()
}


@dataclass(frozen=True)
class Tie:
    """One control total: an extract's amount column (or a scope of its rows) against its source."""

    extract: str
    rows: int
    column: str
    scope: str
    extract_total: str
    source: str = ""
    source_total: str = ""
    difference: str = ""
    tie_out: str = "no source"


def total(values: Iterable) -> Decimal:
    return sum((Decimal(str(v)) for v in values if v is not None), Decimal("0.00")).quantize(CENT)


def control_totals(
    name: str, frame: pd.DataFrame, sources: dict[str, tuple[str, Iterable]], scoped: Iterable[tuple] = ()
) -> list[Tie]:
    """Every amount column of an extract summed, tied out to ``sources[column] = (what, values)`` where the
    source is separate from the extract; ``scoped``: (column, scope, mask, what, values) for ties that hold
    over some rows only."""
    rows = len(frame)
    ties = []

    def tie(column: str, scope: str, values: Iterable, source: tuple[str, Iterable] | None) -> Tie:
        mine = total(values)
        if source is None:
            return Tie(name, rows, column, scope, str(mine))
        theirs = total(source[1])
        return Tie(
            name,
            rows,
            column,
            scope,
            str(mine),
            source[0],
            str(theirs),
            str(mine - theirs),
            "pass" if mine == theirs else "fail",
        )

    for field in EXTRACTS[name]:
        if pa.types.is_decimal(field.type) and field.type.scale == 2:
            ties.append(tie(field.name, "all rows", frame[field.name], sources.get(field.name)))
    for column, scope, mask, what, values in scoped:
        ties.append(tie(column, scope, frame.loc[mask, column], (what, values)))
    return ties


def write(name: str, frame: pd.DataFrame, business_date: dt.date, ties: list[Tie], counts: dict) -> dict:
    """Write one extract (lake Parquet; outbound CSV and Parquet) and record it in ``ops.recon_run``."""
    schema = EXTRACTS[name]
    # Column by column (a cumulative extract reaches hundreds of thousands of rows): each column's values
    # converted by its own type's rule, then one table and one CSV from the same cells.
    columns = {
        c: _cells(frame[c].tolist() if c in frame.columns else [None] * len(frame), schema.field(c).type)
        for c in schema.names
    }
    data = parquet_bytes(pa.Table.from_pydict(columns, schema=schema))  # one file: the lake's and finance's
    parquet, parquet_sha = Lake.configured().put_parquet(
        f"recon__{name}/business_date={business_date}/{name}.parquet", data
    )
    folder = finance_folder(business_date)
    csv_sha = write_atomic(folder / f"{name}.csv", _csv(schema.names, zip(*columns.values(), strict=True)))
    write_atomic(folder / f"{name}.parquet", data)
    info = {
        "row_count": len(frame),
        "control_totals": json.dumps({"ties": [asdict(t) for t in ties], **counts}, sort_keys=True, default=str),
        "parquet_path": parquet,
        "parquet_sha256": parquet_sha,
        "csv_path": keep(folder / f"{name}.csv"),
        "csv_sha256": csv_sha,
    }
    keep(folder / f"{name}.parquet")
    with engine_for("ops").begin() as conn:
        query(conn, "ops/recon_run_upsert", {"business_date": business_date, "extract": name, **info})
    return info


def write_day_files(business_date: dt.date, ties: list[Tie]) -> None:
    """The day's ``control_totals.csv`` and ``schema.json``, beside the extracts."""
    folder = finance_folder(business_date)
    header = list(Tie.__dataclass_fields__)
    write_atomic(folder / "control_totals.csv", _csv(header, ([getattr(t, c) for c in header] for t in ties)))
    write_atomic(folder / "schema.json", json.dumps(schema_document(), indent=1).encode())
    keep(folder / "control_totals.csv")
    keep(folder / "schema.json")


def finance_folder(business_date: dt.date) -> Path:
    return get_settings().outbound / "finance" / business_date.isoformat()


def schema_document() -> dict:
    """Each extract's grain and columns (name, Arrow type, meaning), and the pandas arguments that read its CSV
    with identifiers as text, amounts as Decimal and dates as dates."""
    extracts = {}
    for name, (grain, columns) in CONTRACTS.items():
        extracts[name] = {
            "grain": grain,
            "files": [f"{name}.csv", f"{name}.parquet"],
            "columns": [{"name": c, "type": str(kind), "meaning": meaning} for c, kind, meaning in columns],
            "pandas": {
                "dtype": {
                    c: _pandas_dtype(kind)
                    for c, kind, _ in columns
                    if not pa.types.is_decimal(kind) and not pa.types.is_date(kind)
                },
                "decimals": [c for c, kind, _ in columns if pa.types.is_decimal(kind)],
                "dates": [c for c, kind, _ in columns if pa.types.is_date(kind)],
            },
        }
    return {
        "csv": "UTF-8 with BOM (read with encoding='utf-8-sig'), comma-separated, CRLF, header row; an empty "
        "cell is no value; amounts are plain decimals with a point (2 places; supply quantities 3, prices 4)",
        "control_totals.csv": {c: t for c, t in _TIE_MEANINGS.items()},
        "extracts": extracts,
    }


_TIE_MEANINGS = {
    "extract": "the extract",
    "rows": "rows in the extract",
    "column": "the amount column summed",
    "scope": "the rows summed (all rows, or a named subset)",
    "extract_total": "the sum in the extract",
    "source": "the separate source it ties out to (empty: none)",
    "source_total": "the sum in that source",
    "difference": "extract_total - source_total",
    "tie_out": "pass (equal to the cent), fail, or no source (none separate from the extract)",
}


def _pandas_dtype(kind: pa.DataType) -> str:
    return "Int64" if pa.types.is_integer(kind) else "boolean" if pa.types.is_boolean(kind) else "string"


def _csv(header: list[str], rows: Iterable[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def _cells(values: list, kind: pa.DataType) -> list:
    """One column's values as the extract holds them: None for a missing value (None, NaN), amounts as
    Decimal at the column's scale, dates as dates, integers, booleans, else text."""
    if pa.types.is_decimal(kind):
        places = Decimal(1).scaleb(-kind.scale)
        convert = lambda v: (v if type(v) is Decimal else Decimal(str(v))).quantize(places)  # noqa: E731
    elif pa.types.is_date(kind):
        convert = as_date
    elif pa.types.is_integer(kind):
        convert = int
    elif pa.types.is_boolean(kind):
        convert = bool
    else:
        convert = str
    return [None if v is None or (isinstance(v, float) and v != v) else convert(v) for v in values]
