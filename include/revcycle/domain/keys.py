"""Deterministic keys from business identity (never random ids or wall-clock time)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def business_key(*parts: object) -> str:
    """A stable 32-hex key from the ordered identity parts."""
    return joined_key("\x1f".join("" if p is None else str(p) for p in parts))


def remittance_key(payer: str | None, trace: str | None, payment_date: str | None, credit_debit: str | None) -> str:
    """One payment's key, whichever route brought it (an 835 or a FHIR PaymentReconciliation): the payer, its
    trace number, the payment date (payers reuse a trace number across years) and the credit/debit flag."""
    return business_key("835", payer, trace, payment_date, credit_debit)


def joined_key(text: str) -> str:
    """``business_key`` of parts the caller has already joined with the unit separator (hot loops)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def joined_keys(texts: Iterable[bytes]) -> list[str]:
    """``joined_key`` of each joined text, already UTF-8 (columnar mappers: one comprehension, no call per key)."""
    sha256 = hashlib.sha256
    return [sha256(text).hexdigest()[:32] for text in texts]
