"""Decimal numbers as interchange formats write them: one grammar check and one size limit for every reader.

Python's ``Decimal`` takes far more than any of our formats allows (``2_11.27``, full-width or other
scripts' digits, ``1E2``, `` 211.27 ``, ``1E999999999`` whose sums overflow), so text is matched first:
an optional sign, ASCII digits, an optional decimal point.  X12's R type has no plus sign (X12.6); HL7's
NM type and the CSV exports may carry one.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Integer digits an amount or quantity may have: fits decimal128(18,2) money and (18,3) quantities.
MAX_INTEGER_DIGITS = 15
_UNSIGNED = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
x12_decimal = re.compile("-?" + _UNSIGNED).fullmatch
signed_decimal = re.compile("[+-]?" + _UNSIGNED).fullmatch


def too_large(value: Decimal) -> bool:
    """More integer digits than ``MAX_INTEGER_DIGITS`` (no column of ours could hold it)."""
    return bool(value) and value.adjusted() >= MAX_INTEGER_DIGITS


CENT = Decimal("0.01")


def cents(value: Decimal | str | int | float) -> Decimal:
    """An amount as a Decimal to the cent, from any value a database or frame hands back (SQLite gives
    decimal text, PostgreSQL ``Decimal``; a float is taken by its shortest repr, never its binary value)."""
    return Decimal(str(value)).quantize(CENT)
