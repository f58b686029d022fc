"""The remittance source: X12 835 files parsed to canonical datasets and posted to ERP cash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.canonical import business_rows, to_table, with_lineage
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.reference import gl_map
from revcycle.domain.remittance_posting import build_remittance_postings
from revcycle.settings import get_settings
from revcycle.sources.base import Exclusive, ParseContext, ParseResult, Source
from revcycle.sources.x12_parse import (
    parse_x12_file,
    stage_columnar,
    stage_in_sets,
    sum_str,
    table_columns,
)
from revcycle.x12.balancing import balance
from revcycle.x12.remittance import RemittanceSet, map_remittances
from revcycle.x12.remittance_columns import RemittanceColumns, remittance_parts

if TYPE_CHECKING:
    from sqlalchemy import Connection

DATASETS = SOURCE_DATASETS["remittance"]
CHECKS = ("check__balance",)


def _emit_835(rset: RemittanceSet, out: StagingWriter, lineage: dict, result: ParseResult) -> None:
    for name, rows in rset.records().items():
        out.write(name, to_table(name, rows, lineage))
    levels = balance(rset)
    checks = [
        {"level": level, "key": key, "transaction_control_number": rset.transaction_control, "difference_cents": diff}
        for level, diffs in levels.items()
        for key, diff in diffs.items()
    ]
    out.write("check__balance", to_table("check__balance", checks, lineage))
    _add_totals(rset, {lvl: all(v == 0 for v in d.values()) for lvl, d in levels.items()}, result)


def _add_totals(rset: RemittanceSet, balanced: dict[str, bool], result: ParseResult) -> None:
    rem = rset.remittance
    result.control_totals.setdefault("transactions", []).append(
        {
            "st02": rset.transaction_control,
            "claims": rem["claim_count"],
            "bpr02": str(rem["payment_amount"]),
            "sum_clp04": str(rem["sum_claim_paid_amount"]),
            "sum_plb": str(rem["sum_provider_adjustment_amount"]),
            "balanced": balanced,
        }
    )
    if result.partition_key is None:
        result.partition_key = rem["payer_identifier"] or None


def _stage_columns(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult | None:
    """A columnar mapping (``revcycle.x12.remittance_columns``), staged run by run as ``_emit_835`` stages the
    set-by-set mapper's records; None when that path declines the file, with nothing left staged."""
    found = remittance_parts(path, get_settings().columnar_max_mb << 20)
    return stage_columnar(found, _stage_run, path, ctx, out, ig_validation=True)


def _stage_run(mapped: RemittanceColumns, lineage: dict, out: StagingWriter, result: ParseResult) -> None:
    header = {
        "canonical__remittance": [r.remittance for r in mapped.sets],
        "canonical__provider_adjustment": [p for r in mapped.sets for p in r.provider_adjustments],
    }
    tables = {name: to_table(name, rows, lineage) for name, rows in header.items()}
    tables.update(
        (name, with_lineage(name, table_columns(t), t.num_rows, lineage)) for name, t in mapped.tables.items()
    )
    set_rows = {
        **mapped.set_rows,
        "canonical__remittance": np.ones(len(mapped.sets), np.int64),
        "canonical__provider_adjustment": np.array([len(r.provider_adjustments) for r in mapped.sets]),
    }
    stage_in_sets(out, tables, set_rows, len(mapped.sets))
    for rset, balanced in zip(mapped.sets, mapped.balanced, strict=True):
        _add_totals(rset, balanced, result)


def parse_835(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = _stage_columns(path, ctx, out) or parse_x12_file(path, ctx, out, map_remittances, _emit_835)
    result.control_totals.update(totals_of_sets(result.control_totals.get("transactions", [])))
    return result


def totals_of_sets(sets: list[dict]) -> dict:
    """A file's control totals from its payments' (the 835 and FHIR routes alike): BPR02 is what posting ties to."""
    return {
        "claims": sum(t["claims"] for t in sets),
        "bpr02": sum_str(t["bpr02"] for t in sets),
        "sum_clp04": sum_str(t["sum_clp04"] for t in sets),
        "sum_plb": sum_str(t["sum_plb"] for t in sets),
    }


def post_835(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    rows = {name: business_rows(tables[name]) for name in DATASETS if name != "canonical__remark"}
    return build_remittance_postings(
        rows["canonical__remittance"],
        rows["canonical__claim_payment"],
        rows["canonical__service_line_payment"],
        rows["canonical__adjustment"],
        rows["canonical__provider_adjustment"],
        gl_map(),
        business_date,
        sha256,
    )


def verify_835_posted(sha256: str, control_totals: dict, conn: Connection) -> None:
    """Receipts equal BPR02 to the cent and every journal balances, as read back inside the posting."""
    from revcycle.adapters import erp
    from revcycle.domain.remittance_posting import PostingError

    totals = erp.receipt_totals(sha256, conn)
    for t in totals:
        if t["debits"] != t["credits"]:
            raise PostingError(
                "UNBALANCED_JOURNAL", f"receipt {t['receipt_key'][:12]}: {t['debits']} != {t['credits']}"
            )
    posted = sum((t["amount"] for t in totals), Decimal("0"))
    if posted != Decimal(control_totals["bpr02"]):
        raise PostingError("POSTED_TOTAL_MISMATCH", f"ERP receipts {posted} != source BPR02 {control_totals['bpr02']}")


REMITTANCE = Source(
    name="remittance",
    inbound_subdir="remittance",
    patterns=("*.835", "*.edi", "*.txt", "*.dat", "*.x12"),
    datasets=DATASETS,
    checks=CHECKS,
    parse=parse_835,
    post=post_835,
    asset_uri=lake_uri(DATASETS[0]),
    verify_posted=verify_835_posted,
    # Same payer + trace + payment date from another file: a re-sent remittance, never counted twice.
    exclusive=Exclusive(
        "canonical__remittance", "remittance_key", "cash_receipt", "receipt_key", reason="DUPLICATE_REMITTANCE"
    ),
)
