"""The payer-acknowledgement source: 999s answering the 276s we sent, matched back to the inquiries.

A 999 is read by the same envelope-checked reader and is never answered (no
999 for a 999).  One ``canonical__x12_acknowledgement`` row per AK2; the ERP
keeps every answer in ``claim_inquiry_ack``, and ``erp/inquiry_status`` joins
each inquiry to the answer of its transaction set: sender = the ISA receiver
we wrote to, AK1-02 = our GS06, AK2-02 = our ST02.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.canonical import to_table
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.keys import business_key
from revcycle.domain.reference import payer_for_interchange_id
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.x12_parse import parse_x12_file
from revcycle.x12.acknowledgement import AckSet, map_999

DATASETS = SOURCE_DATASETS["payer_acks"]


def _emit_999(ack: AckSet, out: StagingWriter, lineage: dict, result: ParseResult) -> None:
    rows = [
        {
            "acknowledgement_key": business_key(
                "999", ack.interchange_sender, ack.interchange_control, ack.transaction_control, n
            ),
            "interchange_sender_id": ack.interchange_sender,
            "interchange_control_number": ack.interchange_control,
            "transaction_control_number": ack.transaction_control,
            "functional_id": ack.functional_id or None,
            "acknowledged_group_control": ack.acknowledged_group or None,
            "acknowledged_version": ack.acknowledged_version or None,
            "set_seq": n,
            "acknowledged_set_id": s["set_id"] or None,
            "acknowledged_set_control": s["set_control"] or None,
            "set_status": s["status"],
            "syntax_error_codes": ",".join(s["syntax_codes"]) or None,
            "error_segments": ";".join(s["error_segments"]) or None,
            "element_errors": s["element_errors"],
            "group_status": ack.group_status,
        }
        for n, s in enumerate(ack.sets, start=1)
    ]
    out.write("canonical__x12_acknowledgement", to_table("canonical__x12_acknowledgement", rows, lineage))
    totals = result.control_totals.setdefault("by_status", {})
    for r in rows:
        totals[r["set_status"] or "none"] = totals.get(r["set_status"] or "none", 0) + 1
    if result.partition_key is None:
        result.partition_key = payer_for_interchange_id(ack.interchange_sender)


def parse_999(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = parse_x12_file(path, ctx, out, map_999, _emit_999, ig_validation=False, acknowledge=False)
    result.control_totals["acknowledged_sets"] = sum(result.control_totals.get("by_status", {}).values())
    return result


def post_999(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    return {
        "claim_inquiry_ack": [
            {
                "acknowledgement_key": r["acknowledgement_key"],
                "interchange_sender_id": r["interchange_sender_id"],
                "interchange_control_number": r["interchange_control_number"],
                "acknowledged_group_control": r["acknowledged_group_control"],
                "acknowledged_set_id": r["acknowledged_set_id"] or "",
                "acknowledged_set_control": r["acknowledged_set_control"],
                "set_status": r["set_status"],
                "syntax_error_codes": r["syntax_error_codes"],
                "error_segments": r["error_segments"],
                "group_status": r["group_status"],
                "source_sha256": sha256,
                "business_date": business_date,
            }
            for r in tables["canonical__x12_acknowledgement"].to_pylist()
        ]
    }


PAYER_ACKS = Source(
    name="payer_acks",
    inbound_subdir="acks",
    patterns=("*.999", "*.x12", "*.edi", "*.txt"),
    datasets=DATASETS,
    checks=(),
    parse=parse_999,
    post=post_999,
    asset_uri=lake_uri(DATASETS[0]),
)
