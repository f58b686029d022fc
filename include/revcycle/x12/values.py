"""Typed values from X12 elements: decimals for money, dates, quantities.

An X12 decimal number (data element type R) is an optional minus sign, ASCII
digits and an optional decimal point; nothing else (X12.6: no plus sign, no
exponent, no blanks, no digit group separators).  Python's ``Decimal`` takes
far more (``2_11.27``, full-width digits, ``1E2``, ``+100``, `` 211.27 ``, and
``1E999999999``, whose sums overflow), so the grammar is checked first.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache

from revcycle.errors import MappingError

CENT = Decimal("0.01")
# Integer digits an amount or quantity may have: fits decimal128(18,2) money and (18,3) quantities.
MAX_INTEGER_DIGITS = 15
_DECIMAL_R = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)").fullmatch
_FAST_LENGTH = MAX_INTEGER_DIGITS  # no longer than this: cannot have too many integer digits


def money(value: str, where: str) -> Decimal:
    """A required X12 'R' element as an exact Decimal; empty, malformed or too large is refused."""
    if value == "":
        raise MappingError("MISSING_ELEMENT", f"{where} is required and empty")
    if _DECIMAL_R(value) is None:
        raise MappingError("BAD_NUMBER", f"{where} is not an X12 decimal number (digits, '-' and '.')")
    number = Decimal(value)
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise MappingError("BAD_AMOUNT_SIZE", f"{where} has more than {MAX_INTEGER_DIGITS} integer digits")
    return number


def amount(value: str, where: str, *args: object) -> Decimal:
    """``money`` for hot loops: the location (``where.format(*args)``) is only built when the value is refused."""
    if len(value) <= _FAST_LENGTH and _DECIMAL_R(value) is not None:
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
