"""The reconciliation run of one business day: extracts for finance, control totals, the exception queue.

Inputs, all cumulative up to the day (so a break closes when a later file
resolves it): the lake outputs of every *posted* file (835 remittances, claim
payments and adjustments; bank deposits), and the ERP tables (cash receipts,
receipt applications, latest claim statuses, the latest open A/R snapshot,
invoice match outcomes).  The matching cores in ``revcycle.reconcile`` are pure.

Extracts ``cash``, ``claims``, ``denials``, ``supply`` and ``exceptions`` (the open queue), with their
control totals tied out to the sources: files and column contracts in ``revcycle.jobs.finance_extracts``.

The queue (``ops.exception_item`` + ``ops.exception_event``): one item per
category + business reference, owner team from ``include/config/exception_routing.csv``;
items the run no longer finds are closed, items found again reopen; events
keep the history.  A replay of a day writes the same extracts and changes no
item; a replay of a day older than the latest run leaves the queue alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.adapters.db import as_date, engine_for, query
from revcycle.adapters.lake import Lake
from revcycle.domain.datasets import publishers
from revcycle.domain.decimals import cents
from revcycle.domain.keys import business_key
from revcycle.jobs import finance_extracts as extracts
from revcycle.jobs import supply_match
from revcycle.reconcile.cash import cash_exceptions, reconcile_cash
from revcycle.reconcile.claims import claim_exceptions, denials, reconcile_claims
from revcycle.settings import CONFIG_DIR, get_settings

log = logging.getLogger(__name__)


# -- inputs ------------------------------------------------------------------------
# What the claims and denials extracts read of the lake's claim payments and adjustments.
CLAIM_COLUMNS = [
    "claim_payment_key",
    "remittance_key",
    "patient_control_number",
    "payer_claim_control_number",
    "claim_status_code",
    "is_reversal",
    "charge_amount",
    "paid_amount",
]
ADJUSTMENT_COLUMNS = ["claim_payment_key", "group_code", "reason_code", "amount"]


def lake_table(
    dataset: str, business_date: dt.date, columns: list[str] | None = None, keep: tuple[str, set] | None = None
) -> pd.DataFrame:
    """One canonical dataset from every posted file up to the day, of every source that publishes it (the 835
    and FHIR routes both publish the remittance datasets): only ``columns`` if named, and only the rows whose
    ``keep[0]`` is in ``keep[1]`` if given (filtered in Arrow, before any Python object is made: the
    reconciliation is cumulative, and some datasets grow by millions of rows a week)."""
    with engine_for("ops").connect() as conn:
        rows = [
            row
            for source in publishers(dataset)
            for row in query(conn, "ops/ledger_posted_outputs", {"source": source, "business_date": business_date})
        ]
    paths = [p for _, outputs in rows for p in json.loads(outputs or "[]") if f"/{dataset}/" in p]
    lake = Lake.configured()
    tables = [lake.read(p, columns=columns) for p in paths if lake.exists(p)]
    if keep is not None:
        column, values = keep[0], sorted(keep[1])
        tables = [
            t.filter(pc.is_in(t[column], value_set=pa.array(values, t.schema.field(column).type))) for t in tables
        ]
    if not tables:
        from revcycle.domain.canonical import SCHEMAS

        empty = SCHEMAS[dataset].empty_table()
        return (empty.select(columns) if columns else empty).to_pandas(types_mapper=None).astype(object)
    return python_frame(pa.concat_tables(tables))


def python_frame(table: pa.Table) -> pd.DataFrame:
    """A lake table as a frame of Python objects (Decimal, date, str, int, None), built column by column:
    the frame ``pd.DataFrame(table.to_pylist())`` gives, without a dict a row."""
    return pd.DataFrame(table.to_pydict())


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

    remittances = lake_table("canonical__remittance", business_date)
    payments = remittances[
        (remittances["credit_debit_flag"] == "C") & remittances["payment_amount"].map(lambda v: v is not None and v > 0)
    ]
    payments = payments.drop(columns=["payer_id"]).rename(columns={"payer_identifier": "payer_id"})
    payer_names = {p: n for p, n in zip(remittances["payer_identifier"], remittances["payer_name"], strict=True) if n}
    deposits = lake_table("canonical__bank_deposit", business_date)
    receipts = erp_frame("erp/recon_receipts", business_date, ("amount",))
    cash = reconcile_cash(payments, deposits, receipts)

    claim_rows = lake_table("canonical__claim_payment", business_date, CLAIM_COLUMNS)
    payer_of = dict(zip(remittances["remittance_key"], remittances["payer_identifier"], strict=True))
    claim_rows = claim_rows.assign(payer_id=[payer_of.get(k) for k in claim_rows["remittance_key"]])
    applications = erp_frame("erp/recon_applications", business_date, ("applied_amount",))
    statuses = erp_frame("erp/recon_statuses", business_date, ("charge_amount", "payment_amount"))
    open_items = erp_frame("erp/recon_open_items", business_date, ("billed_amount",), ("submitted_date",))
    claims = reconcile_claims(claim_rows, applications, statuses, open_items, business_date, s.inquiry_after_days)
    # Claim- and line-level CAS of denied claims: the only adjustments the day's extracts read.
    denied = set(claim_rows.loc[claim_rows["claim_status_code"] == "4", "claim_payment_key"])
    adjustments = lake_table("canonical__adjustment", business_date, ADJUSTMENT_COLUMNS, ("claim_payment_key", denied))
    denial_summary = denials(claim_rows, adjustments)
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

    cash = cash.assign(payer_name=[payer_names.get(p) for p in cash["payer_id"]])
    claim_rows_835 = claims["claim_payment_key"].notna() & claims["status"].isin(
        ["matched", "reversal", "paid_not_posted"]
    )
    ties = {
        "cash": extracts.control_totals(
            "cash",
            cash,
            {
                "payment_amount": ("835 payments in the lake (credit, BPR02 > 0)", payments["payment_amount"]),
                "deposit_amount": ("bank deposit lines in the lake", deposits["amount"]),
                "erp_receipt_amount": (
                    "ERP cash receipts of credit payments",
                    receipts.loc[(receipts["credit_debit_flag"] == "C") & (receipts["amount"] > 0), "amount"],
                ),
            },
        ),
        "claims": extracts.control_totals(
            "claims",
            claims,
            {"applied_amount": ("ERP claim-level receipt applications", applications["applied_amount"])},
            [
                (
                    "paid_amount",
                    "rows from 835 claim payments",
                    claim_rows_835,
                    "835 claim payments in the lake (CLP04)",
                    claim_rows["paid_amount"],
                )
            ],
        ),
        "denials": extracts.control_totals(
            "denials",
            denial_summary,
            {
                "amount": (
                    "835 adjustments (CAS) of denied claims in the lake",
                    adjustments.loc[adjustments["claim_payment_key"].isin(denied), "amount"],
                )
            },
        ),
        "supply": extracts.control_totals("supply", supply, {}),
        "exceptions": extracts.control_totals(
            "exceptions",
            queue,
            {
                "amount_at_stake": (
                    "breaks this run found (cash, claims, supply)",
                    [f["amount_at_stake"] for f in found],
                )
            },
        ),
    }
    counts = {
        "cash": {"by_status": cash["status"].value_counts().to_dict()},
        "claims": {"by_status": claims["status"].value_counts().to_dict()},
        "denials": {"claims": int(denial_summary["claims"].sum()) if len(denial_summary) else 0},
        "supply": {"by_status": supply["status"].value_counts().to_dict()},
        "exceptions": {"by_category": queue["category"].value_counts().to_dict()},
    }
    written = {}
    for name, frame in (
        ("cash", cash),
        ("claims", claims),
        ("denials", denial_summary),
        ("supply", supply),
        ("exceptions", queue),
    ):
        written[name] = extracts.write(name, frame, business_date, ties[name], counts[name])
    extracts.write_day_files(business_date, [t for name in ties for t in ties[name]])
    log.info("reconciliation %s: %s open exceptions", business_date, len(queue))
    return {
        "business_date": business_date.isoformat(),
        "open_exceptions": len(queue),
        "extracts": {k: v["row_count"] for k, v in written.items()},
    }


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
            now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)

            def event(key: str, kind: str, amount: Decimal, note: str | None = None) -> None:
                query(
                    conn,
                    "ops/exception_event_insert",
                    {
                        "item_key": key,
                        "business_date": business_date,
                        "event": kind,
                        "event_at": now,
                        "amount_at_stake": amount,
                        "note": note,
                    },
                )

            for key, item in current.items():
                old = existing.get(key)
                status, note = "open", None
                if old is None:
                    kind = "opened"
                elif old["status"] == "closed":
                    kind = "reopened"
                elif old["status"] == "resolved":
                    # A person's resolution stands; the run says it still sees the break, once a day.
                    status, kind = "resolved", "still_found"
                    note = (
                        f"resolved {old['resolution_code']} by {old['resolved_by']} on {as_date(old['resolved_on'])}; "
                        f"the {business_date} run still finds this break"
                    )
                elif Decimal(str(old["amount_at_stake"])) != item["amount_at_stake"]:
                    kind = "changed"
                else:
                    kind = None
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
                        "status": status,
                        "first_seen": first,
                        "last_seen": business_date,
                        "closed_on": None,
                        "payer_id": item.get("payer_id"),
                    },
                )
                if kind:
                    event(key, kind, item["amount_at_stake"], note)
            for key, old in existing.items():
                if key in current or old["status"] == "closed":
                    continue
                amount = Decimal(str(old["amount_at_stake"]))
                query(
                    conn,
                    "ops/exception_upsert",
                    {**old, "amount_at_stake": amount, "status": "closed", "closed_on": business_date},
                )
                was = (
                    f"; it had been resolved {old['resolution_code']} by {old['resolved_by']}"
                    if old["status"] == "resolved"
                    else ""
                )
                event(key, "closed", amount, f"the {business_date} run no longer finds this break{was}")
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
    return pd.DataFrame(rows, columns=list(extracts.EXTRACTS["exceptions"].names))


def recorded_runs(business_date: dt.date) -> dict[str, dict]:
    with engine_for("ops").connect() as conn:
        rows = query(conn, "ops/recon_runs_for_day", {"business_date": business_date})
        return {r["extract"]: dict(r) for r in rows.mappings()}


def open_items() -> list[dict]:
    with engine_for("ops").connect() as conn:
        return [dict(r) for r in query(conn, "ops/exception_items").mappings()]


def queue_movements(business_date: dt.date) -> dict:
    """The queue as a whole (open items by owner, with their amount) and this day's movements apart from it."""
    with engine_for("ops").connect() as conn:
        owners = [dict(r) for r in query(conn, "ops/exceptions_open_by_owner").mappings()]
        events = {
            r["event"]: int(r["items"])
            for r in query(conn, "ops/exception_events_for_day", {"business_date": business_date}).mappings()
        }
    return {
        "open_by_owner": {r["owner_team"]: int(r["items"]) for r in owners},
        "open_amount_by_owner": {r["owner_team"]: str(cents(r["amount"] or 0)) for r in owners},
        "new": events.get("opened", 0) + events.get("reopened", 0),
        "closed": events.get("closed", 0),
    }
