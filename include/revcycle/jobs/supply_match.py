"""Invoice matching run: all consignment usage and supplier invoice lines up to a day, matched and stored.

Reads ``erp.replenishment_request`` and ``erp.supplier_invoice_line`` (every
line up to the business day, so a late invoice still finds its usage), runs
the pure matcher, upserts ``erp.invoice_match`` (first_seen kept,
status/amounts from this evaluation), supersedes outcomes no longer produced,
and writes the exception list as CSV under ``reports/supply_match/<day>/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from decimal import Decimal

import pandas as pd

from revcycle.adapters import erp
from revcycle.adapters.db import engine_for, query
from revcycle.adapters.objectstore import keep
from revcycle.adapters.storage import write_atomic
from revcycle.domain import item_master
from revcycle.reconcile.supply import INVOICE_COLUMNS, REQUEST_COLUMNS, match_invoices
from revcycle.settings import get_settings

log = logging.getLogger(__name__)


def _frame(name: str, business_date: dt.date, columns: list[str], money: tuple[str, ...]) -> pd.DataFrame:
    with engine_for("erp").connect() as conn:
        rows = [dict(r) for r in query(conn, name, {"business_date": business_date}).mappings()]
    frame = pd.DataFrame(rows, columns=columns).astype(object)
    for c in money:
        frame[c] = [None if v is None else Decimal(str(v)) for v in frame[c]]
    return frame.where(frame.notna(), None)


def run(business_date: dt.date, dag_run_id: str | None = None) -> dict:
    requests = _frame("erp/supply_match_inputs_requests", business_date, REQUEST_COLUMNS, ("quantity", "unit_price"))
    invoices = _frame(
        "erp/supply_match_inputs_invoices",
        business_date,
        INVOICE_COLUMNS,
        ("quantity", "unit_price", "extended_amount"),
    )
    items = set(requests["erp_item_id"]) | set(invoices["erp_item_id"])
    tolerance = {i: item_master.tolerance_pct(i, business_date) or Decimal("0") for i in items if i}
    outcomes = match_invoices(requests, invoices, tolerance)
    rows = outcomes.assign(first_seen=business_date, last_evaluated=business_date).to_dict("records")
    erp.load({"invoice_match": rows})
    with engine_for("erp").begin() as conn:
        query(conn, "erp/invoice_match_supersede", {"business_date": business_date})
    counts = outcomes["status"].value_counts().to_dict() if len(outcomes) else {}
    path = write_exceptions(business_date)
    log.info("invoice matching %s: %s; exceptions in %s", business_date, counts, path)
    return {
        "business_date": business_date.isoformat(),
        "requests": len(requests),
        "invoice_lines": len(invoices),
        "outcomes": {k: int(v) for k, v in counts.items()},
        "exceptions_csv": path,
    }


def exceptions(business_date: dt.date) -> list[dict]:
    with engine_for("erp").connect() as conn:
        return [dict(r) for r in query(conn, "erp/invoice_exceptions", {"business_date": business_date}).mappings()]


def write_exceptions(business_date: dt.date) -> str:
    path = get_settings().reports / "supply_match" / business_date.isoformat() / "exceptions.csv"
    rows = exceptions(business_date)
    buf = io.StringIO()
    writer = csv.writer(buf)
    columns = [
        "status",
        "supplier_id",
        "erp_item_id",
        "serial",
        "lot",
        "usage_quantity",
        "invoice_quantity",
        "expected_unit_price",
        "invoice_unit_price",
        "amount_at_stake",
        "first_seen",
        "last_evaluated",
        "request_key",
        "invoice_line_key",
    ]
    writer.writerow(columns)
    places = {
        "amount_at_stake": "0.01",
        "usage_quantity": "0.001",
        "invoice_quantity": "0.001",
        "expected_unit_price": "0.0001",
        "invoice_unit_price": "0.0001",
    }
    for r in rows:
        writer.writerow(
            [
                ""
                if r[c] is None
                else Decimal(str(r[c])).quantize(Decimal(places[c]))
                if c in places
                else str(r[c])[:10]
                if c in ("first_seen", "last_evaluated")
                else r[c]
                for c in columns
            ]
        )
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return keep(path)
