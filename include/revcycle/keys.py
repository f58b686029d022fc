"""Deterministic keys from business identity (never random ids or wall-clock time)."""

from __future__ import annotations

import hashlib


def business_key(*parts: object) -> str:
    """A stable 32-hex key from the ordered identity parts."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
