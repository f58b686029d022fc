"""Reading CSV exports against a documented column contract.

Encoding is detected, not assumed: a UTF-8 (or UTF-16) byte-order mark wins;
otherwise the file must decode as UTF-8, or falls back to Windows-1252 (what
spreadsheet exports and older clinical systems write).  The header must name
every required column (order and extra columns do not matter; names are
compared trimmed and case-insensitively).  Errors name rows and columns, never
the values in them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from revcycle.domain.decimals import MAX_INTEGER_DIGITS, signed_decimal, too_large
from revcycle.errors import MappingError


@dataclass(frozen=True)
class Contract:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


def _decodes(path: Path, encoding: str, refuse_nul: bool = False) -> UnicodeDecodeError | None:
    """None when the whole file decodes strictly, else the first error (its offset is in the file).
    With ``refuse_nul`` a NUL byte is ``NUL_BYTE``: no text export holds one, and a database column
    refuses it (PostgreSQL text cannot store NUL)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                if refuse_nul and (nul := block.find(b"\x00")) >= 0:
                    raise MappingError("NUL_BYTE", f"NUL byte at offset {offset + nul}")
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            exc.start += offset
            return exc
    return None


def detect_encoding(path: Path) -> str:
    """A byte-order mark names the encoding; without one, UTF-8, else Windows-1252.  The whole file must
    decode strictly in the encoding chosen (``BAD_ENCODING`` otherwise) and, unless UTF-16, hold no NUL."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined: a file with one is neither.
        candidates = ("utf-8-sig",) if head.startswith(codecs.BOM_UTF8) else ("utf-8", "cp1252")
    error = None
    for encoding in candidates:
        error = _decodes(path, encoding, refuse_nul=encoding != "utf-16")
        if error is None:
            return encoding
    raise MappingError("BAD_ENCODING", f"byte at offset {error.start} does not decode as {' or '.join(candidates)}")


def read_rows(path: Path, contract: Contract) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with keys normalised to the contract's names; values stripped."""
    if path.stat().st_size == 0:
        raise MappingError("EMPTY_FILE", f"{contract.name}: the file is empty")
    encoding = detect_encoding(path)
    try:
        yield from _rows(path, contract, encoding)
    except csv.Error as exc:
        # The csv module's messages name no value ('line contains NUL', 'field larger than field limit').
        raise MappingError("BAD_CSV", f"{contract.name}: {exc}") from None


def _rows(path: Path, contract: Contract, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding=encoding, errors="strict") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;|\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        header = next(reader, None)
        if not header:
            raise MappingError("EMPTY_FILE", f"{contract.name}: no header row")
        names = [h.strip().lower() for h in header]
        missing = [c for c in contract.required if c not in names]
        if missing:
            raise MappingError("MISSING_COLUMNS", f"{contract.name}: header lacks {', '.join(missing)}")
        wanted = {c: names.index(c) for c in contract.required + contract.optional if c in names}
        for line_no, values in enumerate(reader, start=2):
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(names):
                raise MappingError(
                    "BAD_ROW", f"{contract.name} line {line_no}: {len(values)} fields, header has {len(names)}"
                )
            yield line_no, {c: values[i].strip() for c, i in wanted.items()}


def decimal_field(row: dict, column: str, line_no: int, *, required: bool = True) -> Decimal | None:
    text = row.get(column, "")
    if text == "":
        if required:
            raise MappingError("MISSING_VALUE", f"line {line_no}: {column} is empty")
        return None
    plain = text.replace(",", "") if text.count(",") and "." in text else text
    if signed_decimal(plain) is None:
        raise MappingError("BAD_NUMBER", f"line {line_no}: {column} is not a decimal number")
    value = Decimal(plain)
    if too_large(value):
        raise MappingError(
            "BAD_AMOUNT_SIZE", f"line {line_no}: {column} has more than {MAX_INTEGER_DIGITS} integer digits"
        )
    return value


def date_field(row: dict, column: str, line_no: int, *, required: bool = True) -> dt.date | None:
    text = row.get(column, "")
    if text == "":
        if required:
            raise MappingError("MISSING_VALUE", f"line {line_no}: {column} is empty")
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise MappingError("BAD_DATE", f"line {line_no}: {column} is not a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)")
