"""Item master normalisation: vendor item numbers and GTINs to the ERP item id, with price tolerance.

The master is versioned reference data (``include/config/item_master.csv``,
one row per item and ``effective_from``); the row in effect on the usage date
wins.  Usage whose item cannot be found keeps ``item_status = 'unmapped'`` and
is published flagged, never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from functools import lru_cache

from revcycle.domain.gs1 import gtin14
from revcycle.settings import CONFIG_DIR


@lru_cache(maxsize=1)
def _rows() -> tuple[dict, ...]:
    with open(CONFIG_DIR / "item_master.csv", newline="") as fh:
        return tuple(sorted(csv.DictReader(fh), key=lambda r: r["effective_from"]))


@lru_cache(maxsize=64)
def index(on: dt.date) -> dict[str, dict]:
    """Lookup key ('V:<vendor item>' or 'G:<gtin14>') -> master row in effect on a date."""
    day = on.isoformat()
    out: dict[str, dict] = {}
    for r in _rows():
        if r["effective_from"] <= day:
            out[f"V:{r['vendor_item_number'].upper()}"] = r
            out[f"G:{gtin14(r['gtin'])}"] = r
    return out


def item(vendor_item_number: str | None, gtin: str | None, on: dt.date) -> dict | None:
    idx = index(on)
    return (idx.get(f"V:{(vendor_item_number or '').upper()}") if vendor_item_number else None) or (
        idx.get(f"G:{gtin14(gtin)}") if gtin else None
    )


@lru_cache(maxsize=4096)  # the master's few thousand prices and tolerances, read once each
def _decimal(text: str) -> Decimal:
    return Decimal(text)


def normalise(row: dict, on: dt.date) -> dict:
    """Add erp_item_id, item_status, supplier, master price check; fill flags/UoM the source left empty."""
    found = item(row.get("vendor_item_number") or row.get("item_code"), row.get("gtin"), on)
    if found is None:
        row.update(
            erp_item_id=None,
            item_status="unmapped",
            supplier_id=None,
            master_unit_cost=None,
            price_within_tolerance=None,
        )
        return row
    master_price = _decimal(found["unit_cost"])
    tolerance = _decimal(found["price_tolerance_pct"]) / 100
    unit = row.get("unit_cost")
    row.update(
        erp_item_id=found["erp_item_id"],
        item_status="mapped",
        supplier_id=found["supplier_id"],
        master_unit_cost=master_price,
        price_within_tolerance=None if unit is None else abs(unit - master_price) <= master_price * tolerance,
    )
    if row.get("vendor_item_number") is None:
        row["vendor_item_number"] = found["vendor_item_number"]
    if row.get("gtin") is None:
        row["gtin"] = gtin14(found["gtin"])
    if row.get("unit_of_measure") is None:
        row["unit_of_measure"] = found["unit_of_measure"]
    if row.get("implant_flag") is None:
        row["implant_flag"] = found["implant"] == "Y"
    if row.get("consignment_flag") is None:
        row["consignment_flag"] = found["consignment"] == "Y"
    return row


def tolerance_pct(erp_item_id: str, on: dt.date) -> Decimal | None:
    for r in index(on).values():
        if r["erp_item_id"] == erp_item_id:
            return Decimal(r["price_tolerance_pct"])
    return None
