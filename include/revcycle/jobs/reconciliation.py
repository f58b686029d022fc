"""The reconciliation run of one business day: extracts for finance, control totals, the exception queue.

Inputs, all cumulative up to the day (so a break closes when a later file
resolves it): the lake outputs of every *posted* file (835 remittances, claim
payments and adjustments; bank deposits), and the ERP tables (cash receipts,
receipt applications, latest claim statuses, the latest open A/R snapshot,
invoice match outcomes).  The matching cores in ``revcycle.reconcile`` are pure.

Extracts (lake ``recon__<name>/business_date=D/<name>.parquet`` and CSV in
``outbound/finance/D/<name>.csv``; column contracts in ``EXTRACTS``):
``cash``, ``claims``, ``denials``, ``supply`` and ``exceptions`` (the open queue).
Each extract's row count, sums and the matching source sums are recorded in
``ops.recon_run`` with the files' sha256, so an auditor can tie them back.

The queue (``ops.exception_item`` + ``ops.exception_event``): one item per
category + business reference, owner team from ``include/config/exception_routing.csv``;
items the run no longer finds are closed, items found again reopen; events
keep the history.  A replay of a day writes the same extracts and changes no
item; a replay of a day older than the latest run leaves the queue alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterable
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from revcycle.adapters.db import as_date, engine_for, query
from revcycle.adapters.lake import Lake
from revcycle.adapters.objectstore import keep
from revcycle.adapters.storage import write_atomic
from revcycle.domain.decimals import CENT, cents
from revcycle.domain.keys import business_key
from revcycle.jobs import supply_match
from revcycle.reconcile.cash import cash_exceptions, reconcile_cash
from revcycle.reconcile.claims import claim_exceptions, denials, reconcile_claims
from revcycle.settings import CONFIG_DIR, get_settings

log = logging.getLogger(__name__)
MONEY, QTY, PRICE = pa.decimal128(18, 2), pa.decimal128(18, 3), pa.decimal128(18, 4)
EXTRACTS: dict[str, pa.Schema] = {
    "cash": pa.schema(
        [
            ("payer_id", pa.string()),
            ("trace_number", pa.string()),
            ("payment_date", pa.date32()),
            ("payment_amount", MONEY),
            ("deposit_count", pa.int32()),
            ("deposit_amount", MONEY),
            ("first_deposit_date", pa.date32()),
            ("erp_receipt_amount", MONEY),
            ("difference", MONEY),
            ("status", pa.string()),
            ("remittance_key", pa.string()),
        ]
    ),
    "claims": pa.schema(
        [
            ("payer_id", pa.string()),
            ("patient_control_number", pa.string()),
            ("payer_claim_control_number", pa.string()),
            ("claim_status_code", pa.string()),
            ("is_reversal", pa.bool_()),
            ("corrected", pa.bool_()),
            ("paid_amount", MONEY),
            ("applied_amount", MONEY),
            ("status_category", pa.string()),
            ("status_code", pa.string()),
            ("submitted_date", pa.date32()),
            ("aging_days", pa.int32()),
            ("aging_bucket", pa.string()),
            ("status", pa.string()),
            ("claim_payment_key", pa.string()),
        ]
    ),
    "denials": pa.schema(
        [
            ("payer_id", pa.string()),
            ("group_code", pa.string()),
            ("reason_code", pa.string()),
            ("claims", pa.int32()),
            ("amount", MONEY),
        ]
    ),
    "supply": pa.schema(
        [
            ("status", pa.string()),
            ("supplier_id", pa.string()),
            ("erp_item_id", pa.string()),
            ("serial", pa.string()),
            ("lot", pa.string()),
            ("usage_quantity", QTY),
            ("invoice_quantity", QTY),
            ("expected_unit_price", PRICE),
            ("invoice_unit_price", PRICE),
            ("amount_at_stake", MONEY),
            ("request_key", pa.string()),
            ("invoice_line_key", pa.string()),
        ]
    ),
    "exceptions": pa.schema(
        [
            ("item_key", pa.string()),
            ("category", pa.string()),
            ("reference", pa.string()),
            ("owner_team", pa.string()),
            ("source", pa.string()),
            ("amount_at_stake", MONEY),
            ("detail", pa.string()),
            ("first_seen", pa.date32()),
            ("age_days", pa.int32()),
        ]
    ),
}


# -- inputs ------------------------------------------------------------------------
def lake_table(source: str, dataset: str, business_date: dt.date) -> pd.DataFrame:
    """One canonical dataset from every posted file of a source up to the day."""
    with engine_for("ops").connect() as conn:
        rows = query(conn, "ops/ledger_posted_outputs", {"source": source, "business_date": business_date}).all()
    paths = [p for _, outputs in rows for p in json.loads(outputs or "[]") if f"/{dataset}/" in p]
    lake = Lake.configured()
    tables = [lake.read(p) for p in paths if lake.exists(p)]
    if not tables:
        from revcycle.domain.canonical import SCHEMAS

        return SCHEMAS[dataset].empty_table().to_pandas(types_mapper=None).astype(object)
    return pd.DataFrame(pa.concat_tables(tables).to_pylist())


def erp_frame(
    name: str, business_date: dt.date, money: tuple[str, ...] = (), dates: tuple[str, ...] = ()
) -> pd.DataFrame:
    with engine_for("erp").connect() as conn:
        result = query(conn, name, {"business_date": business_date})
        frame = pd.DataFrame([dict(r) for r in result.mappings()], columns=list(result.keys())).astype(object)
    for c in money:
        frame[c] = [None if v is None else cents(v) for v in frame[c]]
    for c in dates:
        frame[c] = [as_date(v) for v in frame[c]]
    return frame.where(frame.notna(), None)


def routing() -> dict[str, dict]:
    with open(CONFIG_DIR / "exception_routing.csv", newline="") as fh:
        return {r["category"]: r for r in csv.DictReader(fh)}


# -- run ---------------------------------------------------------------------------
def run(business_date: dt.date, dag_run_id: str | None = None) -> dict:
    s = get_settings()
    supply_match.run(business_date, dag_run_id)

    remittances = lake_table("remittance", "canonical__remittance", business_date)
    payments = remittances[
        (remittances["credit_debit_flag"] == "C") & remittances["payment_amount"].map(lambda v: v is not None and v > 0)
    ]
    payments = payments.drop(columns=["payer_id"]).rename(columns={"payer_identifier": "payer_id"})
    deposits = lake_table("bank_deposits", "canonical__bank_deposit", business_date)
    receipts = erp_frame("erp/recon_receipts", business_date, ("amount",))
    cash = reconcile_cash(payments, deposits, receipts)

    claim_rows = lake_table("remittance", "canonical__claim_payment", business_date)
    payer_of = dict(zip(remittances["remittance_key"], remittances["payer_identifier"], strict=True))
    claim_rows = claim_rows.assign(payer_id=[payer_of.get(k) for k in claim_rows["remittance_key"]])
    applications = erp_frame("erp/recon_applications", business_date, ("applied_amount",))
    statuses = erp_frame("erp/recon_statuses", business_date, ("payment_amount",))
    open_items = erp_frame("erp/recon_open_items", business_date, ("billed_amount",), ("submitted_date",))
    claims = reconcile_claims(claim_rows, applications, statuses, open_items, business_date, s.inquiry_after_days)
    adjustments = lake_table("remittance", "canonical__adjustment", business_date)
    denial_summary = denials(claim_rows, adjustments)  # claim- and line-level CAS of denied claims
    supply = erp_frame("erp/recon_supply", business_date, ("amount_at_stake",))

    found = (
        cash_exceptions(cash)
        + claim_exceptions(claims)
        + [
            {
                "category": r["status"],
                "reference": r["serial"] or r["lot"] or (r["request_key"] or r["invoice_line_key"]),
                "amount_at_stake": Decimal(str(r["amount_at_stake"])),
                "detail": r["status"].replace("_", " "),
            }
            for r in supply_match.exceptions(business_date)
        ]
    )
    queue = update_queue(business_date, found)

    totals = {
        "cash": {
            "payment_amount": _sum(cash["payment_amount"]),
            "deposit_amount": _sum(cash["deposit_amount"]),
            "source_payments": _sum(payments["payment_amount"]),
            "source_deposits": _sum(deposits["amount"]),
            "by_status": cash["status"].value_counts().to_dict(),
        },
        "claims": {
            "paid_amount_lake_claims": _sum(
                claims.loc[
                    claims["claim_payment_key"].notna()
                    & claims["status"].isin(["matched", "reversal", "paid_not_posted"]),
                    "paid_amount",
                ]
            ),
            "source_claim_paid": _sum(claim_rows["paid_amount"]),
            "applied_amount": _sum(claims["applied_amount"]),
            "source_applied": _sum(applications["applied_amount"]),
            "by_status": claims["status"].value_counts().to_dict(),
        },
        "denials": {
            "amount": _sum(denial_summary["amount"]),
            "claims": int(denial_summary["claims"].sum()) if len(denial_summary) else 0,
        },
        "supply": {
            "amount_at_stake": _sum(supply["amount_at_stake"]),
            "by_status": supply["status"].value_counts().to_dict(),
        },
        "exceptions": {
            "amount_at_stake": _sum(queue["amount_at_stake"]),
            "by_category": queue["category"].value_counts().to_dict(),
        },
    }
    written = {}
    for name, frame in (
        ("cash", cash),
        ("claims", claims),
        ("denials", denial_summary),
        ("supply", supply),
        ("exceptions", queue),
    ):
        written[name] = write_extract(name, frame, business_date, totals[name])
    log.info("reconciliation %s: %s open exceptions", business_date, len(queue))
    return {
        "business_date": business_date.isoformat(),
        "open_exceptions": len(queue),
        "extracts": {k: v["row_count"] for k, v in written.items()},
    }


def _sum(values: Iterable) -> str:
    return str(sum((Decimal(str(v)) for v in values if v is not None), Decimal("0.00")).quantize(CENT))


# -- the queue ---------------------------------------------------------------------
def update_queue(business_date: dt.date, found: list[dict]) -> pd.DataFrame:
    """Open what is new, keep what is still there, close what is gone; return the open queue as of the day."""
    routes = routing()
    current: dict[str, dict] = {}
    for f in found:
        key = business_key("exception", f["category"], f["reference"])
        if key in current:
            current[key]["amount_at_stake"] += f["amount_at_stake"]
            continue
        route = routes.get(f["category"], {"owner_team": "integration support", "source": "unknown"})
        current[key] = {
            **f,
            "item_key": key,
            "owner_team": route["owner_team"],
            "source": route["source"],
            "amount_at_stake": cents(f["amount_at_stake"]),
        }
    with engine_for("ops").connect() as conn:
        latest = query(conn, "ops/recon_latest_day").scalar()
    latest_day = as_date(latest)
    if latest_day is None or business_date >= latest_day:
        with engine_for("ops").begin() as conn:
            existing = {r["item_key"]: dict(r) for r in query(conn, "ops/exception_items").mappings()}
            for key, item in current.items():
                old = existing.get(key)
                event = (
                    "opened"
                    if old is None
                    else "reopened"
                    if old["status"] == "closed"
                    else "changed"
                    if Decimal(str(old["amount_at_stake"])) != item["amount_at_stake"]
                    else None
                )
                first = business_date if old is None else old["first_seen"]
                query(
                    conn,
                    "ops/exception_upsert",
                    {
                        "item_key": key,
                        "category": item["category"],
                        "reference": item["reference"],
                        "owner_team": item["owner_team"],
                        "source": item["source"],
                        "amount_at_stake": item["amount_at_stake"],
                        "detail": item["detail"][:400],
                        "status": "open",
                        "first_seen": first,
                        "last_seen": business_date,
                        "closed_on": None,
                    },
                )
                if event:
                    query(
                        conn,
                        "ops/exception_event_insert",
                        {
                            "item_key": key,
                            "business_date": business_date,
                            "event": event,
                            "amount_at_stake": item["amount_at_stake"],
                        },
                    )
            for key, old in existing.items():
                if key in current or old["status"] == "closed":
                    continue
                query(
                    conn,
                    "ops/exception_upsert",
                    {
                        **old,
                        "amount_at_stake": Decimal(str(old["amount_at_stake"])),
                        "status": "closed",
                        "last_seen": old["last_seen"],
                        "closed_on": business_date,
                    },
                )
                query(
                    conn,
                    "ops/exception_event_insert",
                    {
                        "item_key": key,
                        "business_date": business_date,
                        "event": "closed",
                        "amount_at_stake": Decimal(str(old["amount_at_stake"])),
                    },
                )
    else:
        log.warning("queue already evaluated on %s: replaying %s leaves it as it is", latest_day, business_date)
    with engine_for("ops").connect() as conn:
        items = {r["item_key"]: dict(r) for r in query(conn, "ops/exception_items").mappings()}
    rows = []
    for key in sorted(current, key=lambda k: (current[k]["category"], current[k]["reference"])):
        first = items[key]["first_seen"] if key in items else business_date
        first = as_date(first)
        item = current[key]
        rows.append(
            {
                "item_key": key,
                "category": item["category"],
                "reference": item["reference"],
                "owner_team": item["owner_team"],
                "source": item["source"],
                "amount_at_stake": item["amount_at_stake"],
                "detail": item["detail"],
                "first_seen": first,
                "age_days": (business_date - first).days,
            }
        )
    return pd.DataFrame(rows, columns=list(EXTRACTS["exceptions"].names))


# -- extracts ----------------------------------------------------------------------
def write_extract(name: str, frame: pd.DataFrame, business_date: dt.date, totals: dict) -> dict:
    s = get_settings()
    schema = EXTRACTS[name]
    records = [{c: _cell(r.get(c), schema.field(c).type) for c in schema.names} for r in frame.to_dict("records")]
    table = pa.Table.from_pylist(records, schema=schema)
    parquet, parquet_sha = Lake.configured().put_table(
        f"recon__{name}/business_date={business_date}/{name}.parquet", table
    )
    csv_path = s.outbound / "finance" / business_date.isoformat() / f"{name}.csv"
    text_buf = io.StringIO()
    writer = csv.writer(text_buf, lineterminator="\r\n")
    writer.writerow(schema.names)
    for r in records:
        writer.writerow(["" if v is None else v for v in (r[c] for c in schema.names)])
    csv_sha = write_atomic(csv_path, ("\ufeff" + text_buf.getvalue()).encode("utf-8"))  # BOM: Excel reads UTF-8
    info = {
        "row_count": len(records),
        "control_totals": json.dumps(totals, sort_keys=True, default=str),
        "parquet_path": parquet,
        "parquet_sha256": parquet_sha,
        "csv_path": keep(csv_path),
        "csv_sha256": csv_sha,
    }
    with engine_for("ops").begin() as conn:
        query(conn, "ops/recon_run_upsert", {"business_date": business_date, "extract": name, **info})
    return info


def _cell(value: object, kind: pa.DataType) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if pa.types.is_decimal(kind):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-kind.scale))
    if pa.types.is_date(kind):
        return as_date(value)
    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_boolean(kind):
        return bool(value)
    return str(value)


def recorded_runs(business_date: dt.date) -> dict[str, dict]:
    with engine_for("ops").connect() as conn:
        rows = query(conn, "ops/recon_runs_for_day", {"business_date": business_date})
        return {r["extract"]: dict(r) for r in rows.mappings()}


def open_items() -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [dict(r) for r in query(conn, "ops/exception_items").mappings()]
