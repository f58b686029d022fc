"""Deterministic keys from business identity (never random ids or wall-clock time)."""

from __future__ import annotations

import hashlib


def business_key(*parts: object) -> str:
    """A stable 32-hex key from the ordered identity parts."""
    return joined_key("\x1f".join("" if p is None else str(p) for p in parts))


def joined_key(text: str) -> str:
    """``business_key`` of parts the caller has already joined with the unit separator (hot loops)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
