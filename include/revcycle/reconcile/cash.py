"""Cash: every 835 payment against the bank's deposit lines and the ERP cash receipt.

Payments are the credit (BPR03 = C) remittances with a positive BPR02; a
zero or debit remittance moves no money to the bank.  Deposit lines pair with
a payment on payer (TRN03 / originator) + trace (TRN02) when deposited from
the payment date to ``window_days`` after it (payers reuse traces across
years); several lines for one payment are a split deposit.  Joins, then one
groupby - no Python loop per row.  Amounts are Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

ZERO = Decimal("0.00")
PAYMENT_COLUMNS = ["remittance_key", "payer_id", "trace_number", "payment_date", "payment_amount"]
DEPOSIT_COLUMNS = ["deposit_key", "originator_id", "trace_number", "deposit_date", "amount"]
RECEIPT_COLUMNS = ["receipt_key", "amount"]
EXTRACT_COLUMNS = [
    "payer_id",
    "trace_number",
    "payment_date",
    "payment_amount",
    "deposit_count",
    "deposit_amount",
    "first_deposit_date",
    "erp_receipt_amount",
    "difference",
    "status",
    "remittance_key",
]


def _dsum(s: pd.Series) -> Decimal:
    return sum(s, ZERO)


def reconcile_cash(
    payments: pd.DataFrame, deposits: pd.DataFrame, receipts: pd.DataFrame, window_days: int = 10
) -> pd.DataFrame:
    pay = payments[PAYMENT_COLUMNS]
    dep = deposits[DEPOSIT_COLUMNS].rename(columns={"originator_id": "payer_id"})
    pairs = pay.merge(dep, on=["payer_id", "trace_number"], how="inner")
    lag = (pd.to_datetime(pairs["deposit_date"]) - pd.to_datetime(pairs["payment_date"])).dt.days
    pairs = pairs[(lag >= 0) & (lag <= window_days)]
    # A deposit line belongs to one payment: the nearest payment date wins when a trace was reused.
    pairs = pairs.sort_values(["deposit_key", "payment_date"], ascending=[True, False]).drop_duplicates("deposit_key")
    per_payment = (
        pairs.groupby("remittance_key")
        .agg(
            deposit_count=("deposit_key", "size"),
            deposit_amount=("amount", _dsum),
            first_deposit_date=("deposit_date", "min"),
        )
        .reset_index()
    )
    out = pay.merge(per_payment, on="remittance_key", how="left")
    out = out.merge(
        receipts[RECEIPT_COLUMNS].rename(columns={"receipt_key": "remittance_key", "amount": "erp_receipt_amount"}),
        on="remittance_key",
        how="left",
    )
    out["deposit_count"] = out["deposit_count"].fillna(0).astype(int)
    out["deposit_amount"] = [a if isinstance(a, Decimal) else ZERO for a in out["deposit_amount"]]
    out["difference"] = [d - p for d, p in zip(out["deposit_amount"], out["payment_amount"], strict=True)]
    out["status"] = [
        "payment_not_in_erp"
        if not isinstance(r, Decimal)
        else "erp_receipt_difference"
        if r != p
        else "payment_without_deposit"
        if n == 0
        else "deposit_amount_difference"
        if diff != 0
        else "split_deposit_matched"
        if n > 1
        else "matched"
        for r, p, n, diff in zip(
            out["erp_receipt_amount"], out["payment_amount"], out["deposit_count"], out["difference"], strict=True
        )
    ]
    orphans = dep[~dep["deposit_key"].isin(pairs["deposit_key"])]
    orphan_rows = (
        orphans.groupby(["payer_id", "trace_number"])
        .agg(
            deposit_count=("deposit_key", "size"),
            deposit_amount=("amount", _dsum),
            first_deposit_date=("deposit_date", "min"),
        )
        .reset_index()
    )
    orphan_rows = orphan_rows.assign(
        payment_date=None,
        payment_amount=None,
        erp_receipt_amount=None,
        difference=orphan_rows["deposit_amount"],
        status="deposit_without_remittance",
        remittance_key=None,
    )
    frames = [f for f in (out[EXTRACT_COLUMNS], orphan_rows[EXTRACT_COLUMNS]) if len(f)]
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=EXTRACT_COLUMNS)
    result = result.astype(object).where(result.notna(), None)
    return result.sort_values(["payer_id", "trace_number", "status"], kind="stable").reset_index(drop=True)


def cash_exceptions(extract: pd.DataFrame) -> list[dict]:
    """Queue items: every row that is not a (split) match, keyed by payer|trace, with the amount at stake."""
    rows = extract[~extract["status"].isin(["matched", "split_deposit_matched"])]
    return [
        {
            "category": r["status"],
            "reference": f"{r['payer_id']}|{r['trace_number']}",
            "payer_id": r["payer_id"],
            "amount_at_stake": abs(r["difference"]) if r["status"] != "payment_not_in_erp" else r["payment_amount"],
            "detail": f"payment {r['payment_amount']} deposited {r['deposit_amount']} in {r['deposit_count']} line(s)",
        }
        for r in rows.to_dict("records")
    ]
