"""Typed values from X12 elements: decimals for money, dates, quantities.

An X12 decimal number (data element type R) is matched against its grammar before it becomes a
``Decimal`` (``revcycle.domain.decimals``): no plus sign, exponent, blanks, digit separators or non-ASCII digits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from revcycle.domain.decimals import MAX_INTEGER_DIGITS, too_large, x12_decimal
from revcycle.errors import MappingError

_FAST_LENGTH = MAX_INTEGER_DIGITS  # no longer than this: cannot have too many integer digits


def money(value: str, where: str) -> Decimal:
    """A required X12 'R' element as an exact Decimal; empty, malformed or too large is refused."""
    if value == "":
        raise MappingError("MISSING_ELEMENT", f"{where} is required and empty")
    if x12_decimal(value) is None:
        raise MappingError("BAD_NUMBER", f"{where} is not an X12 decimal number (digits, '-' and '.')")
    number = Decimal(value)
    if too_large(number):
        raise MappingError("BAD_AMOUNT_SIZE", f"{where} has more than {MAX_INTEGER_DIGITS} integer digits")
    return number


def amount(value: str, where: str, *args: object) -> Decimal:
    """``money`` for hot loops: the location (``where.format(*args)``) is only built when the value is refused."""
    if len(value) <= _FAST_LENGTH and x12_decimal(value) is not None:
        return Decimal(value)
    return money(value, where.format(*args) if args else where)


def optional_money(value: str, where: str) -> Decimal | None:
    return None if value == "" else money(value, where)


@lru_cache(maxsize=4096)
def date8(value: str) -> dt.date | None:
    """CCYYMMDD, or None when empty or not a real calendar date (cached: a file repeats few dates)."""
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
