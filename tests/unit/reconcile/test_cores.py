"""The pure reconciliation cores on small hand-made frames: every status, exact money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pandas as pd

from revcycle.reconcile.cash import cash_exceptions, reconcile_cash
from revcycle.reconcile.claims import bucket, claim_exceptions, denials, reconcile_claims
from revcycle.reconcile.supply import match_invoices

DAY = dt.date(2026, 11, 24)


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).astype(object)


def test_cash_statuses():
    payments = frame(
        [
            {
                "remittance_key": "r1",
                "payer_id": "P1",
                "trace_number": "T1",
                "payment_date": DAY,
                "payment_amount": D("100.00"),
            },
            {
                "remittance_key": "r2",
                "payer_id": "P1",
                "trace_number": "T2",
                "payment_date": DAY,
                "payment_amount": D("50.10"),
            },
            {
                "remittance_key": "r3",
                "payer_id": "P2",
                "trace_number": "T1",
                "payment_date": DAY,
                "payment_amount": D("70.00"),
            },
            {
                "remittance_key": "r4",
                "payer_id": "P2",
                "trace_number": "T4",
                "payment_date": DAY,
                "payment_amount": D("9.99"),
            },
            {
                "remittance_key": "r5",
                "payer_id": "P3",
                "trace_number": "T5",
                "payment_date": DAY,
                "payment_amount": D("1.00"),
            },
            # The same trace a year earlier: its deposit is outside the window and must not take this year's.
            {
                "remittance_key": "r0",
                "payer_id": "P1",
                "trace_number": "T1",
                "payment_date": dt.date(2025, 11, 24),
                "payment_amount": D("100.00"),
            },
        ]
    )
    deposits = frame(
        [
            {
                "deposit_key": "d1",
                "originator_id": "P1",
                "trace_number": "T1",
                "deposit_date": DAY,
                "amount": D("100.00"),
            },
            {
                "deposit_key": "d2a",
                "originator_id": "P1",
                "trace_number": "T2",
                "deposit_date": DAY,
                "amount": D("50.00"),
            },
            {
                "deposit_key": "d2b",
                "originator_id": "P1",
                "trace_number": "T2",
                "deposit_date": DAY + dt.timedelta(1),
                "amount": D("0.10"),
            },
            {
                "deposit_key": "d3",
                "originator_id": "P2",
                "trace_number": "T1",
                "deposit_date": DAY,
                "amount": D("69.99"),
            },
            {
                "deposit_key": "d9",
                "originator_id": "P9",
                "trace_number": "T9",
                "deposit_date": DAY,
                "amount": D("12.34"),
            },
            {
                "deposit_key": "d5",
                "originator_id": "P3",
                "trace_number": "T5",
                "deposit_date": DAY,
                "amount": D("1.00"),
            },
        ]
    )
    receipts = frame(
        [
            {"receipt_key": k, "amount": a}
            for k, a in (
                ("r0", D("100.00")),
                ("r1", D("100.00")),
                ("r2", D("50.10")),
                ("r3", D("70.00")),
                ("r4", D("9.99")),
                ("r5", D("1.01")),
            )
        ]
    )
    out = reconcile_cash(payments, deposits, receipts)
    status = {(r["payer_id"], r["trace_number"], str(r["payment_date"])): r["status"] for r in out.to_dict("records")}
    assert status == {
        ("P1", "T1", "2025-11-24"): "payment_without_deposit",
        ("P1", "T1", "2026-11-24"): "matched",
        ("P1", "T2", "2026-11-24"): "split_deposit_matched",
        ("P2", "T1", "2026-11-24"): "deposit_amount_difference",
        ("P2", "T4", "2026-11-24"): "payment_without_deposit",
        ("P3", "T5", "2026-11-24"): "erp_receipt_difference",
        ("P9", "T9", "None"): "deposit_without_remittance",
    }
    short = out[out["status"] == "deposit_amount_difference"].iloc[0]
    assert short["difference"] == D("-0.01") and isinstance(short["difference"], D)
    items = {(e["category"], e["reference"]): e["amount_at_stake"] for e in cash_exceptions(out)}
    assert items[("deposit_amount_difference", "P2|T1")] == D("0.01")
    assert items[("deposit_without_remittance", "P9|T9")] == D("12.34")
    # Control totals: the extract's sums are the sources' sums.
    assert sum(v for v in out["payment_amount"] if v is not None) == sum(payments["payment_amount"])
    assert sum(out["deposit_amount"]) == sum(deposits["amount"])


def test_claim_statuses_and_aging():
    payments = frame(
        [
            {
                "claim_payment_key": "c1",
                "payer_id": "P1",
                "patient_control_number": "A1",
                "payer_claim_control_number": "I1",
                "claim_status_code": "1",
                "is_reversal": False,
                "paid_amount": D("80.00"),
            },
            {
                "claim_payment_key": "c2",
                "payer_id": "P1",
                "patient_control_number": "A2",
                "payer_claim_control_number": "I2",
                "claim_status_code": "22",
                "is_reversal": True,
                "paid_amount": D("-40.00"),
            },
            {
                "claim_payment_key": "c3",
                "payer_id": "P1",
                "patient_control_number": "A2",
                "payer_claim_control_number": "I2",
                "claim_status_code": "1",
                "is_reversal": False,
                "paid_amount": D("45.00"),
            },
            {
                "claim_payment_key": "c4",
                "payer_id": "P1",
                "patient_control_number": "A4",
                "payer_claim_control_number": None,
                "claim_status_code": "1",
                "is_reversal": False,
                "paid_amount": D("10.00"),
            },
        ]
    )
    applications = frame(
        [
            {
                "claim_payment_key": k,
                "payer_id": "P1",
                "patient_control_number": p,
                "payer_claim_control_number": i,
                "applied_amount": a,
            }
            for k, p, i, a in (
                ("c1", "A1", "I1", D("80.00")),
                ("c2", "A2", "I2", D("-40.00")),
                ("c3", "A2", "I2", D("45.00")),
                ("c9", "A9", None, D("5.00")),
            )
        ]
    )
    statuses = frame(
        [
            {
                "payer_id": "P1",
                "patient_control_number": "S1",
                "payer_claim_control_number": "IS1",
                "category_code": "F1",
                "status_code": "65",
                "payment_amount": D("30.00"),
            },
            {
                "payer_id": "P1",
                "patient_control_number": "A1",
                "payer_claim_control_number": "I1",
                "category_code": "F1",
                "status_code": "65",
                "payment_amount": D("80.00"),
            },
            {
                "payer_id": "P1",
                "patient_control_number": "O2",
                "payer_claim_control_number": None,
                "category_code": "P1",
                "status_code": "20",
                "payment_amount": None,
            },
        ]
    )
    open_items = frame(
        [
            {
                "payer_id": "P1",
                "patient_control_number": "O1",
                "payer_claim_control_number": None,
                "billed_amount": D("10"),
                "submitted_date": DAY - dt.timedelta(days=45),
            },
            {
                "payer_id": "P1",
                "patient_control_number": "O2",
                "payer_claim_control_number": None,
                "billed_amount": D("10"),
                "submitted_date": DAY - dt.timedelta(days=95),
            },
            {
                "payer_id": "P1",
                "patient_control_number": "O3",
                "payer_claim_control_number": None,
                "billed_amount": D("10"),
                "submitted_date": DAY - dt.timedelta(days=5),
            },
            {
                "payer_id": "P1",
                "patient_control_number": "A1",
                "payer_claim_control_number": "I1",
                "billed_amount": D("90"),
                "submitted_date": DAY - dt.timedelta(days=45),
            },
        ]
    )
    out = reconcile_claims(payments, applications, statuses, open_items, DAY, 21)
    got = sorted((r["patient_control_number"], r["status"]) for r in out.to_dict("records"))
    assert got == [
        ("A1", "matched"),
        ("A2", "matched"),
        ("A2", "reversal"),
        ("A4", "paid_not_posted"),
        ("A9", "posted_not_paid"),
        ("O1", "no_remittance"),
        ("O2", "no_remittance"),
        ("S1", "status_paid_no_remittance"),
    ]
    o2 = out[out["patient_control_number"] == "O2"].iloc[0]
    assert (o2["aging_bucket"], o2["status_category"]) == ("91+", "P1")
    assert bool(out[out["status"] == "reversal"].iloc[0]["corrected"])
    # Aging claims carry what was billed; that is their amount at stake, and their age is a whole number of days.
    assert (o2["billed_amount"], o2["aging_days"]) == (D("10"), 95)
    items = {(e["category"], e["reference"]): e for e in claim_exceptions(out)}
    assert items[("claim_no_remittance", "O2")]["amount_at_stake"] == D("10")
    assert items[("claim_no_remittance", "O2")]["detail"] == "no remittance 95 days after billing (91+)"
    cats = sorted(e["category"] for e in claim_exceptions(out))
    assert cats == [
        "claim_no_remittance",
        "claim_no_remittance",
        "claim_paid_not_posted",
        "claim_posted_not_paid",
        "claim_reversal",
        "claim_status_paid_no_remittance",
    ]
    assert [bucket(d) for d in (21, 30, 31, 60, 61, 90, 91)] == [
        "21-30",
        "21-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "91+",
    ]


def test_denials_by_payer_group_and_reason():
    claims = frame(
        [
            {"claim_payment_key": "c1", "payer_id": "P1", "claim_status_code": "4"},
            {"claim_payment_key": "c2", "payer_id": "P1", "claim_status_code": "1"},
        ]
    )
    adjustments = frame(
        [
            {"claim_payment_key": "c1", "group_code": "CO", "reason_code": "50", "amount": D("100.00")},
            {"claim_payment_key": "c1", "group_code": "PR", "reason_code": "1", "amount": D("5.00")},
            {"claim_payment_key": "c2", "group_code": "CO", "reason_code": "45", "amount": D("7.00")},
        ]
    )
    out = denials(claims, adjustments)
    assert out.to_dict("records") == [
        {"payer_id": "P1", "group_code": "CO", "reason_code": "50", "claims": 1, "amount": D("100.00")},
        {"payer_id": "P1", "group_code": "PR", "reason_code": "1", "claims": 1, "amount": D("5.00")},
    ]


def test_supply_matching_serial_then_lot_quantity_and_price():
    requests = frame(
        [
            {
                "request_key": "q1",
                "supplier_id": "S",
                "erp_item_id": "I",
                "serial": "SN1",
                "lot": "L1",
                "quantity": D(1),
                "unit_price": D("100.0000"),
            },
            {
                "request_key": "q2",
                "supplier_id": "S",
                "erp_item_id": "J",
                "serial": None,
                "lot": "L2",
                "quantity": D(2),
                "unit_price": D("10.0000"),
            },
            {
                "request_key": "q3",
                "supplier_id": "S",
                "erp_item_id": "I",
                "serial": "SN3",
                "lot": "L1",
                "quantity": D(1),
                "unit_price": D("100.0000"),
            },
        ]
    )
    invoices = frame(
        [
            {
                "invoice_line_key": "v1",
                "supplier_id": "S",
                "erp_item_id": "I",
                "serial": "SN1",
                "lot": "L1",
                "quantity": D(1),
                "unit_price": D("101.50"),
                "extended_amount": D("101.50"),
            },
            {
                "invoice_line_key": "v2",
                "supplier_id": "S",
                "erp_item_id": "J",
                "serial": None,
                "lot": "L2",
                "quantity": D(3),
                "unit_price": D("10.00"),
                "extended_amount": D("30.00"),
            },
            {
                "invoice_line_key": "v4",
                "supplier_id": "S",
                "erp_item_id": None,
                "serial": "SNX",
                "lot": None,
                "quantity": D(1),
                "unit_price": D("5.00"),
                "extended_amount": D("5.00"),
            },
        ]
    )
    out = match_invoices(requests, invoices, {"I": D("2.0"), "J": D("0")})
    got = {
        (r["request_key"], r["invoice_line_key"]): (r["status"], r["amount_at_stake"]) for r in out.to_dict("records")
    }
    assert got == {
        ("q1", "v1"): ("matched", D("0.00")),  # 1.5% over: within the 2% tolerance
        ("q2", "v2"): ("quantity_mismatch", D("10.00")),
        ("q3", None): ("usage_without_invoice", D("100.00")),
        (None, "v4"): ("invoice_without_usage", D("5.00")),
    }
