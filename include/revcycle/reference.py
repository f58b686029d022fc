"""Versioned reference data shipped in ``include/config``: code lists with effective dates, GL map."""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from functools import lru_cache

from revcycle.settings import CONFIG_DIR


@lru_cache(maxsize=16)
def _rows(name: str) -> tuple[dict, ...]:
    with open(CONFIG_DIR / f"{name}.csv", newline="") as fh:
        return tuple(csv.DictReader(fh))


def active_codes(name: str, on: dt.date) -> list[str]:
    """Codes of list ``name`` (carc, plb_reasons, ...) in effect on a date."""
    day = on.isoformat()
    return sorted(r["code"] for r in _rows(name)
                  if r["effective_from"] <= day and (not r["effective_to"] or day <= r["effective_to"]))


@lru_cache(maxsize=16)
def descriptions(name: str) -> dict[str, str]:
    """Code -> description of a code list (all versions; effective dates are checked by active_codes)."""
    return {r["code"]: r["description"] for r in _rows(name)}


@lru_cache(maxsize=1)
def gl_map() -> dict:
    with open(CONFIG_DIR / "gl_map.toml", "rb") as fh:
        return tomllib.load(fh)
