"""Claims: 835 claim payments against ERP receipt applications and 277 statuses; open claims left unpaid.

- Lake claim payment without its ERP application: ``paid_not_posted``; an ERP
  application with no claim payment behind it: ``posted_not_paid``
  (both joined on the claim payment key, which comes from payer + trace +
  payment date + CLP position).
- A CLP02 = 22 reversal is always reported (``reversal``) with whether its
  corrected claim (same payer and patient control number, not a reversal) is
  in the lake.
- A latest 277 status that is finalized and paid (F1 with STC05 > 0) with no
  payment applied to the claim: ``status_paid_no_remittance``.
- A claim of the latest open A/R snapshot billed ``aging_after_days`` or more
  ago with no payment applied: ``no_remittance``, in aging buckets.
Claims and statuses meet on REF*1K = CLP07, else TRN02 = CLP01 (277 loop 2200D: REF*1K is the payer
claim control number; its TRN02 trace carries the provider's claim identifier, as CLP01 does in the 835).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

ZERO = Decimal("0.00")
EXTRACT_COLUMNS = [
    "payer_id",
    "patient_control_number",
    "payer_claim_control_number",
    "claim_status_code",
    "is_reversal",
    "corrected",
    "billed_amount",
    "paid_amount",
    "applied_amount",
    "status_category",
    "status_code",
    "submitted_date",
    "aging_days",
    "aging_bucket",
    "status",
    "claim_payment_key",
]
BUCKETS = ((30, "21-30"), (60, "31-60"), (90, "61-90"))


def bucket(days: int) -> str:
    return next((label for limit, label in BUCKETS if days <= limit), "91+")


def _applied_keys(applications: pd.DataFrame) -> tuple[set, set]:
    return (
        set(zip(applications["payer_id"], applications["patient_control_number"], strict=True)),
        set(applications["payer_claim_control_number"].dropna()),
    )


def _has_payment(frame: pd.DataFrame, applications: pd.DataFrame) -> pd.Series:
    by_pcn, by_icn = _applied_keys(applications)
    pcn = pd.Series(list(zip(frame["payer_id"], frame["patient_control_number"], strict=True)), index=frame.index).isin(
        by_pcn
    )
    icn = frame["payer_claim_control_number"].isin(by_icn) & frame["payer_claim_control_number"].notna()
    return pcn | icn


def reconcile_claims(
    payments: pd.DataFrame,
    applications: pd.DataFrame,
    statuses: pd.DataFrame,
    open_items: pd.DataFrame,
    as_of: dt.date,
    aging_after_days: int,
) -> pd.DataFrame:
    """payments: lake claim payments (claim_payment_key, payer_id, pcn, icn, claim_status_code, is_reversal,
    charge_amount, paid_amount); applications: ERP claim-level applications (claim_payment_key, payer_id, pcn, icn,
    applied_amount); statuses: ERP latest status per claim; open_items: latest open A/R snapshot."""
    frames = []
    both = payments.merge(
        applications[["claim_payment_key", "applied_amount"]], on="claim_payment_key", how="outer", indicator=True
    )
    lake = both[both["_merge"] != "right_only"].copy()
    corrections = set(
        zip(
            payments.loc[~payments["is_reversal"].astype(bool), "payer_id"],
            payments.loc[~payments["is_reversal"].astype(bool), "patient_control_number"],
            strict=True,
        )
    )
    lake["corrected"] = [
        bool(r) and (p, c) in corrections
        for r, p, c in zip(lake["is_reversal"], lake["payer_id"], lake["patient_control_number"], strict=True)
    ]
    lake["billed_amount"] = lake["charge_amount"] if "charge_amount" in lake else None  # CLP03
    lake["status"] = [
        "paid_not_posted" if m == "left_only" else "reversal" if r else "matched"
        for m, r in zip(lake["_merge"], lake["is_reversal"], strict=True)
    ]
    frames.append(lake)
    orphan = applications[~applications["claim_payment_key"].isin(payments["claim_payment_key"])].copy()
    orphan["status"] = "posted_not_paid"
    frames.append(orphan)

    paid_final = statuses[
        (statuses["category_code"] == "F1") & statuses["payment_amount"].map(lambda v: v is not None and v > 0)
    ].copy()
    paid_final = paid_final[~_has_payment(paid_final, applications)]
    paid_final = paid_final.rename(columns={"category_code": "status_category"})
    paid_final["status"] = "status_paid_no_remittance"
    paid_final["paid_amount"] = paid_final["payment_amount"]
    paid_final["billed_amount"] = paid_final["charge_amount"] if "charge_amount" in paid_final else None  # STC04
    frames.append(paid_final)

    cutoff = as_of - dt.timedelta(days=aging_after_days)
    aging = open_items[open_items["submitted_date"] <= cutoff].copy()
    aging = aging[~_has_payment(aging, applications)]
    aging["aging_days"] = [(as_of - d).days for d in aging["submitted_date"]]
    aging["aging_bucket"] = [bucket(d) for d in aging["aging_days"]]
    aging["status"] = "no_remittance"
    latest = statuses.set_index(["payer_id", "patient_control_number"])[["category_code", "status_code"]]
    if len(aging):
        found = aging.join(latest, on=["payer_id", "patient_control_number"], rsuffix="_latest")
        aging["status_category"], aging["status_code"] = found["category_code"], found["status_code"]
    frames.append(aging)

    result = (
        pd.concat([f.reindex(columns=EXTRACT_COLUMNS) for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame(columns=EXTRACT_COLUMNS)
    )
    result = result.astype(object).where(result.notna(), None)
    return result.sort_values(["payer_id", "patient_control_number", "status"], kind="stable").reset_index(drop=True)


def claim_exceptions(extract: pd.DataFrame) -> list[dict]:
    categories = {
        "paid_not_posted": "claim_paid_not_posted",
        "posted_not_paid": "claim_posted_not_paid",
        "reversal": "claim_reversal",
        "status_paid_no_remittance": "claim_status_paid_no_remittance",
        "no_remittance": "claim_no_remittance",
    }
    out = []
    for r in extract[extract["status"] != "matched"].to_dict("records"):
        # What is at stake: the money paid or applied; for a claim never paid, what was billed.
        amount = next((r[c] for c in ("paid_amount", "applied_amount", "billed_amount") if r[c] is not None), None)
        detail = (
            f"reversal; correction {'received' if r['corrected'] else 'not received'}"
            if r["status"] == "reversal"
            else f"no remittance {int(r['aging_days'])} days after billing ({r['aging_bucket']})"
            if r["status"] == "no_remittance"
            else r["status"].replace("_", " ")
        )
        out.append(
            {
                "category": categories[r["status"]],
                "reference": r["patient_control_number"],
                "payer_id": r["payer_id"],
                "amount_at_stake": abs(amount) if amount is not None else ZERO,
                "detail": detail,
            }
        )
    return out


def denials(claim_payments: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """Denied claims (CLP02 = 4) by payer, CAS group and CARC: claims and adjusted amount."""
    denied = claim_payments[claim_payments["claim_status_code"] == "4"][["claim_payment_key", "payer_id"]]
    adj = adjustments.merge(denied, on="claim_payment_key")
    if not len(adj):
        return pd.DataFrame(columns=["payer_id", "group_code", "reason_code", "claims", "amount"])
    out = (
        adj.groupby(["payer_id", "group_code", "reason_code"])
        .agg(claims=("claim_payment_key", "nunique"), amount=("amount", lambda s: sum(s, ZERO)))
        .reset_index()
    )
    return out.sort_values(["payer_id", "group_code", "reason_code"]).reset_index(drop=True)
