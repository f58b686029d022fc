"""The supply usage source: HL7 v2 DFT^P03/P11 batches and the OR system's CSV export to ERP inventory.

The unit of acceptance is the message (HL7) or the row (CSV), not the file: a
message that cannot be read or mapped gets an AR/AE acknowledgement and is
kept in ``quarantine/<date>/messages/`` with its reason, and the rest of the
file goes on.  Files that are not readable at all (no header, wrong columns,
nothing but broken messages) are quarantined whole.

OR usage export column contract (``supply/*.csv``; header required, any order):

| column             | required | meaning                                   |
|--------------------|----------|-------------------------------------------|
| case_id            | yes      | surgical case id                          |
| encounter_ref      | no       | visit/encounter number (tokenised)        |
| used_at            | yes      | YYYYMMDD[HHMM[SS]] or ISO date            |
| vendor_item_number | one of   | supplier's item number                    |
| gtin               | the two  | GTIN-8/12/13/14 or a GS1 UDI              |
| lot, serial        | no       | implant lot and serial numbers            |
| quantity           | yes      | units used, > 0                           |
| unit_of_measure    | no       | EA, BX, ... (default: item master)        |
| unit_cost          | no       | cost per unit, up to 4 decimals           |
| department         | yes      | cost center / department                  |
| procedure_code     | no       | CPT/HCPCS                                 |
| implant_flag, consignment_flag | no | Y/N (default: item master)       |
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter, private_dir, write_private
from revcycle.delimited.contract import Contract, decimal_field, read_rows
from revcycle.domain import item_master
from revcycle.domain.canonical import to_table, too_long
from revcycle.domain.datasets import SOURCE_DATASETS, lake_uri
from revcycle.domain.gs1 import device_identifier, gtin14, gtin_check_ok
from revcycle.domain.keys import business_key
from revcycle.domain.phi import tokenise
from revcycle.errors import MappingError
from revcycle.hl7.ack import AckInput, build_ack
from revcycle.hl7.dft import DFT_EVENTS, map_dft
from revcycle.hl7.reader import BrokenMessage, HL7Error, Message, read_messages
from revcycle.sources.base import ParseContext, ParseResult, Source

DATASETS = SOURCE_DATASETS["supply_usage"]
CSV_CONTRACT = Contract(
    "OR usage export",
    required=("case_id", "used_at", "quantity", "department"),
    optional=(
        "encounter_ref",
        "vendor_item_number",
        "gtin",
        "lot",
        "serial",
        "unit_of_measure",
        "unit_cost",
        "procedure_code",
        "implant_flag",
        "consignment_flag",
    ),
)
BATCH = 20_000


def is_hl7(path: Path) -> bool:
    """HL7 when a header segment (MSH, FHS, BHS) starts a line near the top, even after stray segments."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    return re.search(rb"(?:^|[\r\n])(?:\xef\xbb\xbf)?(?:MSH|FHS|BHS)[^A-Za-z0-9\s]", head) is not None


def check_usage(row: dict, where: str) -> None:
    """Message/row rules that reject the line's message: quantity > 0, a valid GTIN check digit, and text
    that fits its column."""
    long = too_long("canonical__supply_usage", row)
    if long:
        raise HL7Error("ELEMENT_TOO_LONG", f"{where}: {long[0]} is longer than {long[1]} characters", where, "102")
    if row["quantity"] <= 0:
        raise HL7Error("BAD_QUANTITY", f"{where}: quantity is not positive", where, "102")
    if row["quantity"].as_tuple().exponent < -3:
        raise HL7Error("BAD_NUMBER", f"{where}: quantity has more than 3 decimals", where, "102")
    if row["gtin"] is not None and not row["gtin_check_ok"]:
        raise HL7Error(
            "BAD_GTIN_CHECK_DIGIT", f"{where}: GTIN/UDI device identifier fails its check digit", where, "102"
        )


def finish_usage(row: dict, on: dt.date) -> dict:
    row.setdefault("vendor_item_number", None)
    row = item_master.normalise(row, on)
    row["gtin_check_ok"] = gtin_check_ok(row["gtin"]) if row.get("gtin") else None
    return row


class UsageBatch:
    def __init__(self, out: StagingWriter, lineage: dict) -> None:
        self.out, self.lineage, self.rows = out, lineage, []
        self.totals = Counter()
        self.charge = Decimal("0")
        self.quantity = Decimal("0")

    def add(self, rows: list[dict]) -> None:
        for r in rows:
            self.totals[r["item_status"]] += 1
            self.charge += r["charge_amount"] or 0
            self.quantity += r["quantity"]
        self.rows.extend(rows)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.out.write("canonical__supply_usage", to_table("canonical__supply_usage", self.rows, self.lineage))
        self.rows = []


def parse_supply(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    # A file sent as .hl7 is judged as HL7 even with no header in it (NO_MESSAGES), never as a CSV whose
    # columns are missing: the reason must name what the sender got wrong.
    # An empty file stays EMPTY_FILE, as for every kind.
    hl7 = is_hl7(path) or (ctx.original_name.lower().endswith(".hl7") and path.stat().st_size > 0)
    return (_parse_hl7 if hl7 else _parse_csv)(path, ctx, out)


# -- HL7 --------------------------------------------------------------------------
def _parse_hl7(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = ParseResult()
    batch = UsageBatch(out, ctx.lineage())
    acks: list[str] = []
    outcome: Counter = Counter()
    rejected: list[dict] = []
    skipped: Counter = Counter()
    for msg in read_messages(path):
        if isinstance(msg, BrokenMessage):
            acks.append(
                build_ack(
                    AckInput(
                        "AR",
                        msg.control_id,
                        event=msg.message_type[1],
                        version=msg.version,
                        reason=msg.reason,
                        condition=msg.code,
                        detail=msg.detail,
                    ),
                    msg.seq,
                )
            )
            rejected.append(_reject(ctx, msg.seq, msg.control_id, msg.reason, msg.detail, msg.text))
            outcome["AR"] += 1
            continue
        base = _ack_base(msg)
        mtype, event = msg.message_type
        if mtype != "DFT" or event not in DFT_EVENTS:
            # ADT and other traffic on the feed: recognised, acknowledged, nothing to post.
            skipped[f"{mtype}^{event}"] += 1
            acks.append(build_ack(AckInput("AA", **base), msg.seq))
            outcome["AA"] += 1
            continue
        try:
            try:
                rows = [finish_usage(r, r["transaction_date"] or ctx.business_date) for r in map_dft(msg)]
                for r in rows:
                    check_usage(r, f"FT1^{r['line_seq']}")
            except (HL7Error, OSError, MemoryError):
                raise
            except Exception as unexpected:  # noqa: BLE001 - one poison message costs only that message
                raise HL7Error(
                    "PARSER_ERROR", f"{type(unexpected).__name__} while mapping the message", "MSH", "207"
                ) from None
        except HL7Error as exc:
            acks.append(
                build_ack(
                    AckInput(
                        "AE", **base, reason=exc.reason, condition=exc.code, location=exc.location, detail=exc.detail
                    ),
                    msg.seq,
                )
            )
            rejected.append(
                _reject(
                    ctx,
                    msg.seq,
                    msg.control_id,
                    exc.reason,
                    exc.detail,
                    "\r".join(
                        msg.encoding.field.join(s[:1] + s[2:]) if s[0] == "MSH" else msg.encoding.field.join(s)
                        for s in msg.segments
                    ),
                )
            )
            outcome["AE"] += 1
            continue
        batch.add(rows)
        acks.append(build_ack(AckInput("AA", **base), msg.seq))
        outcome["AA"] += 1
    batch.flush()
    messages = sum(outcome.values())
    if messages == 0:
        raise MappingError("NO_MESSAGES", "no HL7 message found in the file")
    if outcome["AA"] == 0:
        result.acks = _write_acks(ctx, acks)
        raise MappingError(
            "ALL_MESSAGES_REJECTED",
            f"all {messages} messages rejected ({', '.join(sorted({r['reason'] for r in rejected}))})",
        )
    result.acks = _write_acks(ctx, acks)
    result.control_totals = {
        "format": "hl7",
        "messages": messages,
        "acks": dict(outcome),
        "skipped_types": dict(skipped),
        "usage_lines": sum(batch.totals.values()),
        "items": dict(batch.totals),
        "charge_amount": str(batch.charge),
        "quantity": str(batch.quantity),
        "rejected": rejected,
    }
    result.findings = [
        {"check": "hl7_message", "seq": r["seq"], "control_id": r["control_id"], "reason": r["reason"]}
        for r in rejected
    ]
    return result


def _ack_base(msg: Message) -> dict:
    h = msg.leaves(msg.msh, 8)
    return {
        "control_id": msg.control_id,
        "sending_app": h[3],
        "sending_facility": h[4],
        "receiving_app": h[5],
        "receiving_facility": h[6],
        "timestamp": h[7],
        "event": msg.message_type[1],
        "version": msg.version,
    }


def _reject(ctx: ParseContext, seq: int, control_id: str, reason: str, detail: str, text: str) -> dict:
    """Keep a rejected message (PHI: quarantine folder only) and return its pointer (no values)."""
    if ctx.reject_dir is not None:
        private_dir(ctx.reject_dir)
        stem = f"{ctx.sha256[:16]}_{seq:06d}"
        write_private(ctx.reject_dir / f"{stem}.hl7", text, encoding="latin-1", errors="replace")
        write_private(
            ctx.reject_dir / f"{stem}.reason.json",
            json.dumps(
                {
                    "file_sha256": ctx.sha256,
                    "message_seq": seq,
                    "control_id": control_id,
                    "reason": reason,
                    "detail": detail,
                },
                indent=2,
            ),
        )
    return {"seq": seq, "control_id": control_id, "reason": reason}


def _write_acks(ctx: ParseContext, acks: list[str]) -> list[str]:
    if ctx.ack_dir is None or not acks:
        return []
    ctx.ack_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.ack_dir / f"{ctx.sha256[:16]}.ack.hl7"
    path.write_text("".join(acks), encoding="latin-1", errors="replace")
    return [str(path)]


# -- CSV --------------------------------------------------------------------------
def _used_at(text: str, line_no: int) -> dt.date:
    digits = text.replace("-", "").replace(":", "").replace("T", "").replace(" ", "")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise MappingError("BAD_DATE", f"line {line_no}: used_at is not a date") from None


def _flag(text: str | None) -> bool | None:
    return {"Y": True, "N": False, "TRUE": True, "FALSE": False, "1": True, "0": False}.get((text or "").upper())


def _parse_csv(path: Path, ctx: ParseContext, out: StagingWriter) -> ParseResult:
    result = ParseResult()
    batch = UsageBatch(out, ctx.lineage())
    seen: Counter = Counter()
    rejected: list[dict] = []
    lines = 0
    for line_no, r in read_rows(path, CSV_CONTRACT):
        lines += 1
        try:
            row = _csv_row(r, line_no, seen, ctx.business_date)
            check_usage(row, f"line {line_no}")
        except (MappingError, HL7Error) as exc:
            rejected.append({"line": line_no, "reason": exc.reason})
            continue
        batch.add([row])
    batch.flush()
    if lines == 0:
        raise MappingError("NO_ROWS", "the usage export has a header and no rows")
    if not batch.totals:
        raise MappingError(
            "ALL_ROWS_REJECTED", f"all {lines} rows rejected ({', '.join(sorted({r['reason'] for r in rejected}))})"
        )
    result.control_totals = {
        "format": "csv",
        "rows": lines,
        "usage_lines": sum(batch.totals.values()),
        "items": dict(batch.totals),
        "charge_amount": str(batch.charge),
        "quantity": str(batch.quantity),
        "rejected": rejected,
    }
    result.findings = [{"check": "usage_row", "line": r["line"], "reason": r["reason"]} for r in rejected]
    return result


def _csv_row(r: dict, line_no: int, seen: Counter, business_date: dt.date) -> dict:
    quantity = decimal_field(r, "quantity", line_no)
    unit = decimal_field(r, "unit_cost", line_no, required=False)
    if unit is not None and unit.as_tuple().exponent < -4:
        raise MappingError("BAD_NUMBER", f"line {line_no}: unit_cost has more than 4 decimals")
    used = _used_at(r["used_at"], line_no)
    udi = r.get("gtin") or None
    gtin = gtin14(device_identifier(udi)) if udi else None
    identity = (r["case_id"], r["used_at"], r.get("vendor_item_number"), gtin, r.get("lot"), r.get("serial"))
    seen[identity] += 1
    if not r.get("vendor_item_number") and not gtin:
        raise MappingError("MISSING_ITEM", f"line {line_no}: neither vendor_item_number nor gtin")
    row = {
        "usage_key": business_key("or_csv", *identity, seen[identity]),
        "source_format": "csv",
        "message_control_id": None,
        "line_seq": line_no,
        "transaction_id": None,
        "transaction_date": used,
        "transaction_type": "CG",
        "case_id": r["case_id"] or None,
        "encounter_token": tokenise(r.get("encounter_ref")),
        "patient_token": None,
        "item_code": r.get("vendor_item_number") or None,
        "item_text": None,
        "item_code_system": None,
        "vendor_item_number": r.get("vendor_item_number") or None,
        "gtin": gtin,
        "udi": udi,
        "lot": r.get("lot") or None,
        "serial": r.get("serial") or None,
        "expiry_date": None,
        "quantity": quantity,
        "quantity_defaulted": False,
        "unit_of_measure": r.get("unit_of_measure") or None,
        "unit_cost": unit,
        "charge_amount": None if unit is None else (unit * quantity).quantize(Decimal("0.01")),
        "department": r["department"] or None,
        "procedure_code": r.get("procedure_code") or None,
        "procedure_modifiers": None,
        "performing_provider_id": None,
        "ordering_provider_id": None,
        "implant_flag": _flag(r.get("implant_flag")),
        "consignment_flag": _flag(r.get("consignment_flag")),
    }
    return finish_usage(row, used or business_date)


# -- post -------------------------------------------------------------------------
def post_supply(tables: dict[str, pa.Table], business_date: dt.date, sha256: str) -> dict:
    """Mapped usage issues stock to the case's cost center; consignment implants ask the supplier to replenish."""
    issues, replenish = [], []
    for u in tables["canonical__supply_usage"].to_pylist():
        if u["item_status"] != "mapped":
            continue  # flagged in the lake and the validation report; the ERP cannot issue an unknown item
        issues.append(
            {
                "transaction_key": u["usage_key"],
                "erp_item_id": u["erp_item_id"],
                "transaction_type": "ISSUE" if u["transaction_type"] != "CD" else "RETURN",
                "quantity": u["quantity"],
                "unit_of_measure": u["unit_of_measure"],
                "unit_cost": u["unit_cost"] or u["master_unit_cost"],
                "cost_center": u["department"],
                "case_id": u["case_id"],
                "encounter_token": u["encounter_token"],
                "lot": u["lot"],
                "serial": u["serial"],
                "consignment": bool(u["consignment_flag"]),
                "transaction_date": u["transaction_date"],
                "source_sha256": sha256,
                "business_date": business_date,
            }
        )
        if u["consignment_flag"] and u["implant_flag"]:
            replenish.append(
                {
                    "request_key": business_key("replenish", u["usage_key"]),
                    "usage_key": u["usage_key"],
                    "supplier_id": u["supplier_id"],
                    "erp_item_id": u["erp_item_id"],
                    "vendor_item_number": u["vendor_item_number"],
                    "gtin": u["gtin"],
                    "lot": u["lot"],
                    "serial": u["serial"],
                    "quantity": u["quantity"],
                    "unit_price": u["master_unit_cost"],
                    "case_id": u["case_id"],
                    "used_on": u["transaction_date"],
                    "source_sha256": sha256,
                    "business_date": business_date,
                }
            )
    return {"inventory_transaction": issues, "replenishment_request": replenish}


SUPPLY_USAGE = Source(
    name="supply_usage",
    inbound_subdir="supply",
    patterns=("*.hl7", "*.txt", "*.csv"),
    datasets=DATASETS,
    checks=(),
    parse=parse_supply,
    post=post_supply,
    asset_uri=lake_uri(DATASETS[0]),
    contract=CSV_CONTRACT,
)
