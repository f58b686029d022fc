"""Deterministic keys from business identity (never random ids or wall-clock time)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def business_key(*parts: object) -> str:
    """A stable 32-hex key from the ordered identity parts."""
    return joined_key("\x1f".join("" if p is None else str(p) for p in parts))


def joined_key(text: str) -> str:
    """``business_key`` of parts the caller has already joined with the unit separator (hot loops)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def joined_keys(texts: Iterable[bytes]) -> list[str]:
    """``joined_key`` of each joined text, already UTF-8 (columnar mappers: one comprehension, no call per key)."""
    sha256 = hashlib.sha256
    return [sha256(text).hexdigest()[:32] for text in texts]
