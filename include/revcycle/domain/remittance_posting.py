"""Remittance posting rules: canonical 835 records to ERP rows (pure; no database).

- one ``cash_receipt`` per payment (payer, trace, date, BPR02, method);
- ``receipt_application`` per claim (CLP04) and per service line (SVC03);
- one journal per receipt, every amount on its side:
    Dr cash BPR02 / Cr insurance A/R CLP04 per claim
    Dr GL(CAS group + CARC) / Cr insurance A/R per CO, OA, PI, CR triplet
    Dr patient A/R / Cr insurance A/R per PR triplet (never a write-off)
    Dr GL(PLB reason) per PLB amount (a negative amount is a credit)
  which balances exactly when sum(CLP04) - sum(PLB) = BPR02.
A reversal (CLP02=22) carries negative amounts in the 835, so the same rules
post the negating entries; nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from revcycle.domain.keys import business_key
from revcycle.errors import PostingError

__all__ = ["PostingError", "build_remittance_postings"]
ZERO = Decimal("0")


def _account_for_cas(gl: dict, group: str, reason: str) -> str:
    if group == "PR":
        return gl["accounts"]["patient_ar"]
    return (
        gl["cas_reason"].get(f"{group}-{reason}") or gl["cas_group"].get(group) or gl["accounts"]["unmapped_adjustment"]
    )


def _account_for_plb(gl: dict, reason: str) -> str:
    return gl["plb_reason"].get(reason) or gl["accounts"]["unmapped_provider_adjustment"]


class _Journal:
    def __init__(self, key: str, business_date: dt.date) -> None:
        self.key, self.business_date, self.lines = key, business_date, []

    def add(
        self,
        account: str,
        signed: Decimal,
        source_type: str,
        source_key: str,
        *,
        group=None,
        reason=None,
        memo=None,
        part: str = "",
    ) -> None:
        if signed == 0:
            return
        self.lines.append(
            {
                "journal_line_key": business_key(self.key, source_type, source_key, part, account),
                "journal_key": self.key,
                "line_number": len(self.lines) + 1,
                "account": account,
                "debit": signed if signed > 0 else ZERO,
                "credit": -signed if signed < 0 else ZERO,
                "source_type": source_type,
                "source_key": source_key,
                "group_code": group,
                "reason_code": reason,
                "memo": memo,
                "business_date": self.business_date,
            }
        )


def build_remittance_postings(
    remittances: list[dict],
    claims: list[dict],
    lines: list[dict],
    adjustments: list[dict],
    provider_adjustments: list[dict],
    gl: dict,
    business_date: dt.date,
    source_sha256: str,
) -> dict[str, list[dict]]:
    accounts = gl["accounts"]
    by_rem: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for name, rows in (
        ("claims", claims),
        ("lines", lines),
        ("adjustments", adjustments),
        ("plb", provider_adjustments),
    ):
        for row in rows:
            by_rem[row["remittance_key"]][name].append(row)
    receipts, applications, journal_lines = [], [], []
    claim_index = {c["claim_payment_key"]: c for c in claims}
    for rem in remittances:
        rkey = rem["remittance_key"]
        parts = by_rem[rkey]
        receipts.append(
            {
                "receipt_key": rkey,
                "payer_id": rem["payer_identifier"],
                "payer_name": rem["payer_name"],
                "trace_number": rem["trace_number"],
                "payment_date": rem["payment_date"],
                "amount": rem["payment_amount"],
                "payment_method": rem["payment_method"],
                "handling_code": rem["handling_code"],
                "credit_debit_flag": rem["credit_debit_flag"],
                "source_sha256": source_sha256,
                "transaction_control": rem["transaction_control_number"],
                "business_date": business_date,
            }
        )
        journal = _Journal(rkey, business_date)
        journal.add(accounts["cash"], rem["payment_amount"], "receipt", rkey, memo="BPR02 payment")
        for c in parts["claims"]:
            applications.append(
                {
                    "application_key": business_key(c["claim_payment_key"], "claim"),
                    "receipt_key": rkey,
                    "level": "claim",
                    "claim_payment_key": c["claim_payment_key"],
                    "service_line_key": None,
                    "patient_control_number": c["patient_control_number"],
                    "payer_claim_control_number": c["payer_claim_control_number"],
                    "claim_status_code": c["claim_status_code"],
                    "is_reversal": bool(c["is_reversal"]),
                    "charge_amount": c["charge_amount"],
                    "applied_amount": c["paid_amount"],
                    "patient_responsibility_amount": c["patient_responsibility_amount"],
                    "business_date": business_date,
                }
            )
            journal.add(
                accounts["insurance_ar"],
                -c["paid_amount"],
                "claim_payment",
                c["claim_payment_key"],
                memo="CLP04 reversal" if c["is_reversal"] else "CLP04 payment",
            )
        for ln in parts["lines"]:
            c = claim_index[ln["claim_payment_key"]]
            applications.append(
                {
                    "application_key": business_key(ln["service_line_key"], "service_line"),
                    "receipt_key": rkey,
                    "level": "service_line",
                    "claim_payment_key": ln["claim_payment_key"],
                    "service_line_key": ln["service_line_key"],
                    "patient_control_number": c["patient_control_number"],
                    "payer_claim_control_number": c["payer_claim_control_number"],
                    "claim_status_code": c["claim_status_code"],
                    "is_reversal": bool(c["is_reversal"]),
                    "charge_amount": ln["charge_amount"],
                    "applied_amount": ln["paid_amount"],
                    "patient_responsibility_amount": None,
                    "business_date": business_date,
                }
            )
        for a in parts["adjustments"]:
            group, reason = a["group_code"], a["reason_code"]
            account = _account_for_cas(gl, group, reason)
            journal.add(
                account,
                a["amount"],
                "adjustment",
                a["adjustment_key"],
                group=group,
                reason=reason,
                memo=f"CAS {group}-{reason}",
                part="dr",
            )
            journal.add(
                accounts["insurance_ar"],
                -a["amount"],
                "adjustment",
                a["adjustment_key"],
                group=group,
                reason=reason,
                memo=f"CAS {group}-{reason}",
                part="cr",
            )
        for p in parts["plb"]:
            journal.add(
                _account_for_plb(gl, p["reason_code"]),
                p["amount"],
                "provider_adjustment",
                p["provider_adjustment_key"],
                reason=p["reason_code"],
                memo=f"PLB {p['reason_code']}",
            )
        debit = sum((ln["debit"] for ln in journal.lines), ZERO)
        credit = sum((ln["credit"] for ln in journal.lines), ZERO)
        if debit != credit:
            raise PostingError(
                "UNBALANCED_JOURNAL",
                f"journal of ST {rem['transaction_control_number']}: debits {debit} != credits {credit}",
            )
        journal_lines.extend(journal.lines)
    return {"cash_receipt": receipts, "receipt_application": applications, "journal_line": journal_lines}
