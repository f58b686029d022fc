"""Posting rules: journals balance, receipts equal BPR02, PR goes to patient A/R, reversals negate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revcycle.domain.reference import gl_map
from revcycle.domain.remittance_posting import PostingError, build_remittance_postings
from revcycle.x12.remittance import read_remittances
from tests.conftest import FIXTURES

FIX = FIXTURES / "x12" / "835"
DAY = dt.date(2026, 11, 20)


def post(name: str) -> dict:
    rsets = [r for _, r in read_remittances(FIX / name)]
    return build_remittance_postings(
        [r.remittance for r in rsets],
        [c for r in rsets for c in r.claim_payments],
        [ln for r in rsets for ln in r.service_line_payments],
        [a for r in rsets for a in r.adjustments],
        [p for r in rsets for p in r.provider_adjustments],
        gl_map(),
        DAY,
        "f" * 64,
    )


@pytest.mark.parametrize(
    "name",
    [
        "paid-claims-four-cas-groups.835",
        "reversal-and-correction.835",
        "legacy-4010-pipe-caret.835",
        "two-interchanges-different-delimiters.835",
    ],
)
def test_every_journal_balances_and_receipt_equals_bpr02(name):
    rows = post(name)
    by_journal: dict[str, list] = {}
    for line in rows["journal_line"]:
        by_journal.setdefault(line["journal_key"], []).append(line)
        assert line["debit"] >= 0 and line["credit"] >= 0 and (line["debit"] == 0) != (line["credit"] == 0)
    for receipt in rows["cash_receipt"]:
        lines = by_journal[receipt["receipt_key"]]
        assert sum(ln["debit"] for ln in lines) == sum(ln["credit"] for ln in lines)
        cash = [ln for ln in lines if ln["account"] == gl_map()["accounts"]["cash"]]
        assert sum(ln["debit"] - ln["credit"] for ln in cash) == receipt["amount"]


def test_accounts_by_cas_group_carc_and_plb_reason():
    rows = post("paid-claims-four-cas-groups.835")
    gl = gl_map()
    lines = rows["journal_line"]

    def total(account, side):
        return sum(ln[side] for ln in lines if ln["account"] == account)

    assert total(gl["accounts"]["patient_ar"], "debit") == Decimal("50")  # PR-2 to patient A/R
    assert total(gl["cas_reason"]["CO-45"], "debit") == Decimal("170")  # 150 + 20
    assert total(gl["cas_reason"]["OA-23"], "debit") == Decimal("100")
    assert total(gl["cas_reason"]["PI-94"], "debit") == Decimal("10")
    assert total(gl["plb_reason"]["WO"], "debit") == Decimal("25")  # withheld recovery
    assert total(gl["plb_reason"]["L6"], "credit") == Decimal("3.5")  # interest paid: income
    assert total(gl["accounts"]["cash"], "debit") == Decimal("348.50")
    apps = [a for a in rows["receipt_application"] if a["level"] == "claim"]
    assert sum(a["applied_amount"] for a in apps) == Decimal("370")


def test_reversal_posts_negating_entries():
    rows = post("reversal-and-correction.835")
    reversal = next(a for a in rows["receipt_application"] if a["level"] == "claim" and a["is_reversal"])
    assert reversal["applied_amount"] == Decimal("-250")
    ar = gl_map()["accounts"]["insurance_ar"]
    rev_line = next(ln for ln in rows["journal_line"] if ln["source_key"] == reversal["claim_payment_key"])
    assert rev_line["account"] == ar and rev_line["debit"] == Decimal("250") and rev_line["credit"] == 0


def test_unbalanced_transaction_cannot_post():
    with pytest.raises(PostingError) as info:
        post("unbalanced-transaction.835")
    assert info.value.reason == "UNBALANCED_JOURNAL"


def test_keys_are_deterministic():
    a, b = post("paid-claims-four-cas-groups.835"), post("paid-claims-four-cas-groups.835")
    assert [ln["journal_line_key"] for ln in a["journal_line"]] == [ln["journal_line_key"] for ln in b["journal_line"]]
    assert len({ln["journal_line_key"] for ln in a["journal_line"]}) == len(a["journal_line"])
