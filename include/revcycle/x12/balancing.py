"""835 balancing at three levels, to the cent (the 005010X221A1 balancing rules):

1. service line:  SVC02 - sum(line CAS) = SVC03
2. claim:         CLP03 - sum(claim CAS + line CAS) = CLP04
3. transaction:   sum(CLP04) - sum(PLB) = BPR02

Differences are returned in integer cents so validation suites compare exact
integers; zero means balanced.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from revcycle.x12.remittance import RemittanceSet

ZERO = Decimal("0")


def cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def balance(rset: RemittanceSet) -> dict[str, dict[str, int]]:
    """Per key, the imbalance in cents at each level: {'service_line': {...}, 'claim': {...}, 'transaction': {...}}."""
    line_cas: dict[str, Decimal] = defaultdict(lambda: ZERO)
    claim_cas: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for adj in rset.adjustments:
        if adj["service_line_key"]:
            line_cas[adj["service_line_key"]] += adj["amount"]
        claim_cas[adj["claim_payment_key"]] += adj["amount"]
    lines = {
        ln["service_line_key"]: cents(ln["charge_amount"] - line_cas[ln["service_line_key"]] - ln["paid_amount"])
        for ln in rset.service_line_payments
    }
    claims = {
        c["claim_payment_key"]: cents(c["charge_amount"] - claim_cas[c["claim_payment_key"]] - c["paid_amount"])
        for c in rset.claim_payments
    }
    rem = rset.remittance
    transaction = {
        rem["remittance_key"]: cents(
            rem["sum_claim_paid_amount"] - rem["sum_provider_adjustment_amount"] - rem["payment_amount"]
        )
    }
    return {"service_line": lines, "claim": claims, "transaction": transaction}


def is_balanced(rset: RemittanceSet) -> dict[str, bool]:
    levels = balance(rset)
    return {level: all(v == 0 for v in diffs.values()) for level, diffs in levels.items()}
