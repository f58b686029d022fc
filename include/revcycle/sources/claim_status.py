"""The claim status source: 277 / 277CA files to canonical status events and the ERP status tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.canonical import to_table, with_lineage
from revcycle.domain.claim_status_set import StatusSet
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.keys import business_key
from revcycle.domain.reference import descriptions
from revcycle.settings import get_settings
from revcycle.sources.base import ParseContext, ParseResult, Source
from revcycle.sources.x12_parse import parse_x12_file, stage_columnar, stage_in_sets, table_columns
from revcycle.x12.claim_status import map_claim_status
from revcycle.x12.claim_status_columns import EVENTS, StatusColumns, claim_status_parts
from revcycle.x12.columnar import or_none

DATASETS = SOURCE_DATASETS["claim_status"]


def claim_key(payer_id: str | None, patient_control_number: str) -> str:
    return business_key("claim", payer_id, patient_control_number)


def emit_status_set(sset: StatusSet, out: StagingWriter, lineage: dict, result: ParseResult) -> None:
    categories, statuses = descriptions("claim_status_category"), descriptions("claim_status_code")
    for e in sset.events:
        e["category_description"] = categories.get(e["category_code"] or "")
        e["status_description"] = statuses.get(e["status_code"] or "")
    out.write("canonical__claim_status_event", to_table("canonical__claim_status_event", sset.events, lineage))
    result.control_totals.setdefault("transactions", []).append(
        {
            "st02": sset.transaction_control,
            "implementation": sset.implementation,
            "claims": sset.claims,
            "stc_composites": len(sset.events),
        }
    )
    if result.partition_key is None:
        result.partition_key = next((e["payer_id"] for e in sset.events if e["payer_id"]), None)


def _described(codes: pa.ChunkedArray, names: dict[str, str]) -> pa.Array:
    """``names.get(code or "")`` for each code, once per distinct code."""
    encoded = pc.dictionary_encode(pc.fill_null(codes, "")).combine_chunks()
    return pa.array([names.get(c) for c in encoded.dictionary.to_pylist()], pa.string()).take(encoded.indices)


def _stage_columns(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult | None:
    """A columnar mapping (``revcycle.x12.claim_status_columns``), staged run by run as ``emit_status_set`` stages
    the set-by-set mapper's events; None when that path declines the file, with nothing left staged."""
    found = claim_status_parts(path, get_settings().columnar_max_mb << 20)
    return stage_columnar(found, _stage_run, path, ctx, out, ig_validation=False)


def _stage_run(mapped: StatusColumns, lineage: dict, out: StagingWriter, result: ParseResult) -> None:
    columns = table_columns(mapped.events)
    columns["category_description"] = _described(columns["category_code"], descriptions("claim_status_category"))
    columns["status_description"] = _described(columns["status_code"], descriptions("claim_status_code"))
    events = with_lineage(EVENTS, columns, mapped.events.num_rows, lineage)
    stage_in_sets(out, {EVENTS: events}, {EVENTS: mapped.set_rows}, len(mapped.controls))
    start = 0
    for st02, implementation, claims, rows in zip(
        mapped.controls, mapped.implementations, mapped.claims.tolist(), mapped.set_rows.tolist(), strict=True
    ):
        result.control_totals.setdefault("transactions", []).append(
            {"st02": st02, "implementation": implementation, "claims": claims, "stc_composites": rows}
        )
        if result.partition_key is None:
            payers = pc.drop_null(or_none(events["payer_id"].slice(start, rows).combine_chunks()))
            result.partition_key = payers[0].as_py() if len(payers) else None
        start += rows


def parse_277(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    # pyx12 ships no 277 X212/X214 maps, so no implementation-guide pass here.
    result = _stage_columns(path, ctx, out) or parse_x12_file(
        path, ctx, out, map_claim_status, emit_status_set, ig_validation=False
    )
    sets = result.control_totals.get("transactions", [])
    result.control_totals.update(
        {"claims": sum(t["claims"] for t in sets), "stc_composites": sum(t["stc_composites"] for t in sets)}
    )
    return result


def post_277(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    """History rows for every claim or line event; the latest claim-level status per claim."""
    history, latest = [], {}
    for e in tables["canonical__claim_status_event"].to_pylist():
        if e["level"] not in ("claim", "service_line"):
            continue  # receiver/provider-level statuses stay in the lake; they belong to no claim
        key = claim_key(e["payer_id"], e["patient_control_number"])
        history.append(
            {
                "claim_status_event_key": e["claim_status_event_key"],
                "claim_key": key,
                "level": e["level"],
                "line_seq": e["line_seq"],
                "procedure_code": e["procedure_code"],
                "payer_id": e["payer_id"],
                "patient_control_number": e["patient_control_number"],
                "payer_claim_control_number": e["payer_claim_control_number"],
                "category_code": e["category_code"],
                "status_code": e["status_code"],
                "entity_code": e["entity_code"],
                "category_description": e["category_description"],
                "status_description": e["status_description"],
                "status_date": e["status_date"],
                "charge_amount": e["charge_amount"],
                "payment_amount": e["payment_amount"],
                "check_number": e["check_number"],
                "source_sha256": sha256,
                "business_date": business_date,
            }
        )
        if e["level"] != "claim" or e["composite_seq"] != 1:
            continue
        row = {
            "claim_key": key,
            "payer_id": e["payer_id"],
            "patient_control_number": e["patient_control_number"],
            "payer_claim_control_number": e["payer_claim_control_number"],
            "category_code": e["category_code"],
            "status_code": e["status_code"],
            "category_description": e["category_description"],
            "status_description": e["status_description"],
            "is_final": (e["category_code"] or "").startswith("F"),
            "status_date": e["status_date"],
            "charge_amount": e["charge_amount"],
            "payment_amount": e["payment_amount"],
            "check_number": e["check_number"],
            "last_event_key": e["claim_status_event_key"],
            "source_sha256": sha256,
            "business_date": business_date,
        }
        # One row per claim per load: the latest by status date, then event key (deterministic).
        current = latest.get(key)
        if current is None or (row["status_date"], row["last_event_key"]) > (
            current["status_date"],
            current["last_event_key"],
        ):
            latest[key] = row
    return {"claim_status_history": history, "claim_status": list(latest.values())}


CLAIM_STATUS = Source(
    name="claim_status",
    inbound_subdir="claim_status",
    patterns=("*.277", "*.txt", "*.edi", "*.x12"),
    datasets=DATASETS,
    checks=(),
    parse=parse_277,
    post=post_277,
    asset_uri=lake_uri(DATASETS[0]),
)
