"""The remittance source: X12 835 files parsed to canonical datasets and posted to ERP cash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from revcycle.canonical import SCHEMAS, to_table
from revcycle.errors import RevcycleError
from revcycle.pipeline.base import ParseContext, ParseFailure, ParseResult, Source
from revcycle.pipeline.ig_validation import structural_findings
from revcycle.pipeline.x12_acks import write_acks
from revcycle.posting import build_remittance_postings
from revcycle.reference import gl_map
from revcycle.storage import StagingWriter
from revcycle.x12.balancing import balance
from revcycle.x12.reader import X12Reader
from revcycle.x12.remittance import map_remittances

DATASETS = ("canonical__remittance", "canonical__claim_payment", "canonical__service_line_payment",
            "canonical__adjustment", "canonical__provider_adjustment", "canonical__remark")
CHECKS = ("check__balance",)


def parse_835(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = ParseResult()
    lineage = ctx.lineage()
    with open(path, "rb") as stream:
        reader = X12Reader(stream)
        try:
            for rset in map_remittances(reader):
                out.write("canonical__remittance", to_table("canonical__remittance", [rset.remittance], lineage))
                out.write("canonical__claim_payment", to_table("canonical__claim_payment", rset.claim_payments, lineage))
                out.write("canonical__service_line_payment",
                          to_table("canonical__service_line_payment", rset.service_line_payments, lineage))
                out.write("canonical__adjustment", to_table("canonical__adjustment", rset.adjustments, lineage))
                out.write("canonical__provider_adjustment",
                          to_table("canonical__provider_adjustment", rset.provider_adjustments, lineage))
                out.write("canonical__remark", to_table("canonical__remark", rset.remarks, lineage))
                levels = balance(rset)
                checks = [{"level": level, "key": key, "transaction_control_number": rset.transaction_control,
                           "difference_cents": diff}
                          for level, diffs in levels.items() for key, diff in diffs.items()]
                out.write("check__balance", to_table("check__balance", checks, lineage))
                rem = rset.remittance
                result.control_totals.setdefault("transactions", []).append({
                    "st02": rset.transaction_control, "claims": rem["claim_count"],
                    "bpr02": str(rem["payment_amount"]), "sum_clp04": str(rem["sum_claim_paid_amount"]),
                    "sum_plb": str(rem["sum_provider_adjustment_amount"]),
                    "balanced": {lvl: all(v == 0 for v in d.values()) for lvl, d in levels.items()},
                })
                if result.partition_key is None:
                    result.partition_key = rem["payer_identifier"] or None
        except (RevcycleError, pa.ArrowInvalid) as exc:
            error = exc if isinstance(exc, RevcycleError) else RevcycleError("BAD_AMOUNT_SCALE", "amount with more than 2 decimals")
            _envelope(result, reader)
            result.acks = write_acks(reader, ctx.sha256, ctx.landed_at, ctx.ack_dir, error)
            raise ParseFailure(error.reason, error.detail, result) from None
    _envelope(result, reader)
    sets = result.control_totals.get("transactions", [])
    result.control_totals.update({
        "interchanges": len(reader.interchanges), "segments": reader.segment_count,
        "claims": sum(t["claims"] for t in sets),
        "bpr02": str(sum((Decimal(t["bpr02"]) for t in sets), Decimal("0"))),
        "sum_clp04": str(sum((Decimal(t["sum_clp04"]) for t in sets), Decimal("0"))),
        "sum_plb": str(sum((Decimal(t["sum_plb"]) for t in sets), Decimal("0"))),
    })
    result.acks = write_acks(reader, ctx.sha256, ctx.landed_at, ctx.ack_dir)
    result.findings = structural_findings(path, reader.segment_count)
    return result


def _envelope(result: ParseResult, reader: X12Reader) -> None:
    result.sender_id = reader.interchanges[0].sender_id if reader.interchanges else ""
    result.interchanges = [i.control_number for i in reader.interchanges]
    result.groups = [g.control_number for i in reader.interchanges for g in i.groups]
    result.transactions = [t for i in reader.interchanges for g in i.groups for t in g.transaction_set_ids]


def post_835(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    from revcycle import erp
    from revcycle.posting import PostingError

    rows = {name: tables[name].to_pylist() for name in DATASETS}
    keys = [r["remittance_key"] for r in rows["canonical__remittance"]]
    others = {k: owner for k, owner in erp.receipt_owners(keys).items() if owner != sha256}
    if others:
        # Same payer + trace + payment date from another file: a re-sent remittance, never posted twice.
        raise PostingError("DUPLICATE_REMITTANCE",
                           f"{len(others)} payment(s) already posted from file {next(iter(others.values()))[:12]}")
    return build_remittance_postings(
        rows["canonical__remittance"], rows["canonical__claim_payment"], rows["canonical__service_line_payment"],
        rows["canonical__adjustment"], rows["canonical__provider_adjustment"], gl_map(), business_date, sha256)


def verify_835_posted(sha256: str, control_totals: dict) -> None:
    """Receipts equal BPR02 to the cent and every journal balances, as read back from the ERP."""
    from revcycle import erp
    from revcycle.posting import PostingError

    totals = erp.receipt_totals(sha256)
    for t in totals:
        if t["debits"] != t["credits"]:
            raise PostingError("UNBALANCED_JOURNAL", f"receipt {t['receipt_key'][:12]}: {t['debits']} != {t['credits']}")
    posted = sum((t["amount"] for t in totals), Decimal("0"))
    if posted != Decimal(control_totals["bpr02"]):
        raise PostingError("POSTED_TOTAL_MISMATCH", f"ERP receipts {posted} != source BPR02 {control_totals['bpr02']}")


REMITTANCE = Source(
    name="remittance", inbound_subdir="remittance", patterns=("*.835", "*.edi", "*.txt", "*.dat", "*.x12"),
    datasets=DATASETS, checks=CHECKS, parse=parse_835, post=post_835,
    asset_uri="file://revcycle/lake/canonical__remittance",
    verify_posted=verify_835_posted,
)
