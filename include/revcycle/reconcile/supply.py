"""Supplier invoice lines against recorded consignment usage: matched lines and an exception list.

Pairs are found with joins, not loops: first on (supplier, ERP item, serial)
for serialised implants, then on (supplier, ERP item, lot) for what is left;
repeated keys pair up in order (the n-th invoice line with the n-th usage).
A pair is ``matched`` when quantities agree and the invoice price is within
the item master's tolerance of the expected price; otherwise
``quantity_mismatch`` or ``price_mismatch``.  Leftovers are
``invoice_without_usage`` and ``usage_without_invoice``.  Money stays Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from revcycle.domain.decimals import CENT
from revcycle.domain.keys import business_key

REQUEST_COLUMNS = ["request_key", "supplier_id", "erp_item_id", "serial", "lot", "quantity", "unit_price"]
INVOICE_COLUMNS = [
    "invoice_line_key",
    "supplier_id",
    "erp_item_id",
    "serial",
    "lot",
    "quantity",
    "unit_price",
    "extended_amount",
]


def _pair(left: pd.DataFrame, right: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    left = left.assign(_n=left.groupby(key, dropna=False).cumcount())
    right = right.assign(_n=right.groupby(key, dropna=False).cumcount())
    return left.merge(right, on=key + ["_n"], suffixes=("_usage", "_invoice")).drop(columns="_n")


def match_invoices(requests: pd.DataFrame, invoices: pd.DataFrame, tolerance_pct: dict[str, Decimal]) -> pd.DataFrame:
    """One row per outcome: match_key, request_key, invoice_line_key, status, amounts (Decimal)."""
    req = requests[REQUEST_COLUMNS].copy()
    inv = invoices[INVOICE_COLUMNS].copy()
    pairs = []
    for key, column in (
        (["supplier_id", "erp_item_id", "serial"], "serial"),
        (["supplier_id", "erp_item_id", "lot"], "lot"),
    ):
        r = req[req[column].notna() & ~req["request_key"].isin(_used(pairs, "request_key"))]
        i = inv[
            inv[column].notna()
            & inv["erp_item_id"].notna()
            & ~inv["invoice_line_key"].isin(_used(pairs, "invoice_line_key"))
        ]
        if column == "lot":  # serialised lines only pair on their serial
            r, i = r[r["serial"].isna()], i[i["serial"].isna()]
        if len(r) and len(i):
            p = _pair(r, i, key)
            p["serial"] = p.get("serial", p.get("serial_usage"))
            pairs.append(p)
    paired = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame()
    rows = [_pair_outcome(p, tolerance_pct) for p in paired.to_dict("records")] if len(paired) else []
    used_r, used_i = _used(pairs, "request_key"), _used(pairs, "invoice_line_key")
    for r in req[~req["request_key"].isin(used_r)].to_dict("records"):
        rows.append(
            _row(
                r["request_key"],
                None,
                "usage_without_invoice",
                r,
                r["quantity"],
                None,
                r["unit_price"],
                None,
                (r["quantity"] * (r["unit_price"] or 0)).quantize(CENT),
            )
        )
    for i in inv[~inv["invoice_line_key"].isin(used_i)].to_dict("records"):
        rows.append(
            _row(
                None,
                i["invoice_line_key"],
                "invoice_without_usage",
                i,
                None,
                i["quantity"],
                None,
                i["unit_price"],
                Decimal(i["extended_amount"]).quantize(CENT),
            )
        )
    columns = [
        "match_key",
        "request_key",
        "invoice_line_key",
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
    ]
    out = pd.DataFrame(rows, columns=columns).astype(object)
    return out.where(out.notna(), None)


def _used(pairs: list[pd.DataFrame], column: str) -> set:
    return {k for p in pairs for k in p[column]}


def _pair_outcome(p: dict, tolerance_pct: dict[str, Decimal]) -> dict:
    expected, billed = p["unit_price_usage"], p["unit_price_invoice"]
    q_used, q_billed = p["quantity_usage"], p["quantity_invoice"]
    tol = tolerance_pct.get(p["erp_item_id"], Decimal("0")) / 100
    if q_used != q_billed:
        status, stake = "quantity_mismatch", ((q_billed - q_used) * billed).quantize(CENT)
    elif expected is not None and abs(billed - expected) > expected * tol:
        status, stake = "price_mismatch", ((billed - expected) * q_billed).quantize(CENT)
    else:
        status, stake = "matched", Decimal("0.00")
    lot = p.get("lot") if "lot" in p else p.get("lot_usage")
    return _row(
        p["request_key"],
        p["invoice_line_key"],
        status,
        {"supplier_id": p["supplier_id"], "erp_item_id": p["erp_item_id"], "serial": p.get("serial"), "lot": lot},
        q_used,
        q_billed,
        expected,
        billed,
        stake,
    )


def _row(
    request_key: str | None,
    invoice_line_key: str | None,
    status: str,
    item: dict,
    q_used: Decimal | None,
    q_billed: Decimal | None,
    expected: Decimal | None,
    billed: Decimal | None,
    stake: Decimal,
) -> dict:
    # One outcome per usage (once paired or not) and per unpaired invoice line: keys survive a later match.
    key = (
        business_key("invoice_match", request_key)
        if request_key
        else business_key("invoice_match", None, invoice_line_key)
    )
    return {
        "match_key": key,
        "request_key": request_key,
        "invoice_line_key": invoice_line_key,
        "status": status,
        "supplier_id": item.get("supplier_id"),
        "erp_item_id": item.get("erp_item_id"),
        "serial": _none(item.get("serial")),
        "lot": _none(item.get("lot")),
        "usage_quantity": q_used,
        "invoice_quantity": q_billed,
        "expected_unit_price": expected,
        "invoice_unit_price": billed,
        "amount_at_stake": stake,
    }


def _none(value: object) -> object:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value
