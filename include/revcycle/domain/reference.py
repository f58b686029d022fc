"""Versioned reference data shipped in ``include/config``: code lists with effective dates, GL map."""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from functools import lru_cache
from pathlib import Path

from revcycle.settings import CONFIG_DIR


@lru_cache(maxsize=16)
def _rows(name: str) -> tuple[dict, ...]:
    with open(CONFIG_DIR / f"{name}.csv", newline="") as fh:
        return tuple(csv.DictReader(fh))


def active_codes(name: str, on: dt.date) -> list[str]:
    """Codes of list ``name`` (carc, plb_reasons, ...) in effect on a date."""
    day = on.isoformat()
    return sorted(
        r["code"]
        for r in _rows(name)
        if r["effective_from"] <= day and (not r["effective_to"] or day <= r["effective_to"])
    )


@lru_cache(maxsize=16)
def descriptions(name: str) -> dict[str, str]:
    """Code -> description of a code list (all versions; effective dates are checked by active_codes)."""
    return {r["code"]: r["description"] for r in _rows(name)}


@lru_cache(maxsize=1)
def gl_map() -> dict:
    with open(CONFIG_DIR / "gl_map.toml", "rb") as fh:
        return tomllib.load(fh)


def trading_partners() -> dict:
    """Our submitter identity and the payers we send X12 to (``REVCYCLE_TRADING_PARTNERS``, default
    ``include/config/trading_partners.toml``)."""
    from revcycle.settings import get_settings

    return _trading_partners(get_settings().trading_partners_file)


@lru_cache(maxsize=4)
def _trading_partners(path: Path) -> dict:
    with open(path, "rb") as fh:
        config = tomllib.load(fh)
    for section in ("submitter",):
        if section not in config:
            raise ValueError(f"{path}: no [{section}] table")
    return {"submitter": config["submitter"], "payers": {p["payer_id"]: p for p in config.get("payer", [])}}


def payer_for_interchange_id(interchange_id: str) -> str:
    """The payer id whose ISA06/08 identity this is (as configured), else the identity itself."""
    for payer_id, p in trading_partners()["payers"].items():
        if p["interchange_id"].strip() == interchange_id.strip():
            return payer_id
    return interchange_id.strip()
