"""Typed values from X12 elements: decimals for money, dates, quantities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from revcycle.errors import MappingError

CENT = Decimal("0.01")


def money(value: str, where: str) -> Decimal:
    """X12 'R' element as an exact Decimal; empty means zero."""
    if value == "":
        return Decimal("0")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MappingError("BAD_NUMBER", f"{where} is not a decimal number") from None
    if not amount.is_finite():
        raise MappingError("BAD_NUMBER", f"{where} is not a finite number")
    return amount


def amount(value: str, where: str, *args: object) -> Decimal:
    """``money`` for hot loops: the location (``where.format(*args)``) is only built when the value is refused."""
    try:
        number = Decimal(value)
        if number.is_finite():
            return number
    except InvalidOperation:
        pass
    return money(value, where.format(*args) if args else where)


def optional_money(value: str, where: str) -> Decimal | None:
    return None if value == "" else money(value, where)


@lru_cache(maxsize=4096)
def date8(value: str) -> dt.date | None:
    """CCYYMMDD, or None when empty or not a real calendar date (cached: a file repeats few dates)."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
