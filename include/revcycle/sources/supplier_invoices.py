"""The supplier invoice source: suppliers' invoice CSVs to canonical lines and the ERP, for usage matching.

Column contract (``invoices/*.csv``; header required, any order):
invoice_number, supplier_id, invoice_date, line_number, quantity, unit_price (required);
vendor_item_number and/or gtin (one required), lot, serial, extended_amount (default
quantity x unit_price; when given it must equal it to the cent), po_reference.
Items are normalised through the item master like usage, so both sides match on the ERP item id.
A bad line quarantines the whole invoice file: an invoice is paid whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.delimited.contract import Contract, date_field, decimal_field, read_rows
from revcycle.domain import item_master
from revcycle.domain.canonical import to_table
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.decimals import CENT
from revcycle.domain.gs1 import device_identifier, gtin14
from revcycle.domain.keys import business_key
from revcycle.errors import MappingError
from revcycle.sources.base import ParseContext, ParseResult, Source

DATASETS = SOURCE_DATASETS["supplier_invoices"]
CONTRACT = Contract(
    "supplier invoice",
    required=("invoice_number", "supplier_id", "invoice_date", "line_number", "quantity", "unit_price"),
    optional=("vendor_item_number", "gtin", "lot", "serial", "extended_amount", "po_reference"),
)


def parse_invoices(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    rows = []
    total = Decimal("0")
    for line_no, r in read_rows(path, CONTRACT):
        qty = decimal_field(r, "quantity", line_no)
        price = decimal_field(r, "unit_price", line_no)
        if price.as_tuple().exponent < -4 or qty.as_tuple().exponent < -3:
            raise MappingError("BAD_NUMBER", f"line {line_no}: unit_price or quantity has too many decimals")
        extended = decimal_field(r, "extended_amount", line_no, required=False)
        computed = (qty * price).quantize(CENT)
        if extended is not None and extended.quantize(CENT) != computed:
            raise MappingError("BAD_EXTENDED_AMOUNT", f"line {line_no}: extended_amount != quantity x unit_price")
        if not r["line_number"].isdigit():
            raise MappingError("BAD_NUMBER", f"line {line_no}: line_number is not a whole number")
        gtin = gtin14(device_identifier(r["gtin"])) if r.get("gtin") else None
        if not r.get("vendor_item_number") and not gtin:
            raise MappingError("MISSING_ITEM", f"line {line_no}: neither vendor_item_number nor gtin")
        invoice_date = date_field(r, "invoice_date", line_no)
        found = item_master.item(r.get("vendor_item_number"), gtin, invoice_date)
        rows.append(
            {
                "invoice_line_key": business_key(
                    "invoice_line", r["supplier_id"], r["invoice_number"], int(r["line_number"])
                ),
                "invoice_number": r["invoice_number"],
                "supplier_id": r["supplier_id"],
                "invoice_date": invoice_date,
                "line_number": int(r["line_number"]),
                "vendor_item_number": r.get("vendor_item_number") or None,
                "erp_item_id": found["erp_item_id"] if found else None,
                "item_status": "mapped" if found else "unmapped",
                "gtin": gtin,
                "lot": r.get("lot") or None,
                "serial": r.get("serial") or None,
                "quantity": qty,
                "unit_price": price,
                "extended_amount": computed,
                "po_reference": r.get("po_reference") or None,
            }
        )
        total += computed
    if not rows:
        raise MappingError("NO_ROWS", "the invoice file has a header and no lines")
    out.write("canonical__supplier_invoice_line", to_table("canonical__supplier_invoice_line", rows, ctx.lineage()))
    result = ParseResult(partition_key=rows[0]["supplier_id"])
    result.control_totals = {
        "lines": len(rows),
        "extended_amount": str(total),
        "invoices": len({(r["supplier_id"], r["invoice_number"]) for r in rows}),
    }
    return result


def post_invoices(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    columns = (
        "invoice_line_key",
        "invoice_number",
        "supplier_id",
        "invoice_date",
        "line_number",
        "vendor_item_number",
        "erp_item_id",
        "gtin",
        "lot",
        "serial",
        "quantity",
        "unit_price",
        "extended_amount",
        "po_reference",
    )
    return {
        "supplier_invoice_line": [
            {**{c: r[c] for c in columns}, "source_sha256": sha256, "business_date": business_date}
            for r in tables["canonical__supplier_invoice_line"].to_pylist()
        ]
    }


SUPPLIER_INVOICES = Source(
    name="supplier_invoices",
    inbound_subdir="invoices",
    patterns=("*.csv",),
    datasets=DATASETS,
    checks=(),
    parse=parse_invoices,
    post=post_invoices,
    asset_uri=lake_uri(DATASETS[0]),
    contract=CONTRACT,
)
