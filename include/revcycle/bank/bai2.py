"""BAI2 (the Cash Management Balance Reporting Specification, version 2) to deposit lines.

A file is records ending in ``/``: 01 file header, 02 group header (as-of date), 03 account identifier
(with optional summary amounts), 16 transaction detail, 88 continuation of the record before, 49 account
trailer (control total, record count), 98 group trailer (control total, account count, record count),
99 file trailer (control total, group count, record count).  Amounts carry no decimal point: they are in the
currency's minor unit (cents for USD).  Every control total and record count is checked; a file that does not
add up is refused whole (``BAI_CONTROL_TOTAL``, ``BAI_RECORD_COUNT``), as a payer file would be.

Deposits are the 16 records with a credit type code (100-399).  Healthcare EFTs (CCD+) carry the 835's
reassociation trace in the addenda as ``TRN*1*<trace>*<originator id>\\``, which banks pass on in the detail
text: that gives the trace number and the payer's id; without it the bank's customer reference is the trace
and the originator is unknown (the reconciliation then reports an unexplained deposit).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from revcycle.errors import MappingError

TRN = re.compile(r"TRN\*1\*([^*\\~/,]+)\*([^*\\~/,]+)")
CREDIT_TYPES = range(100, 400)


@dataclass
class Deposit:
    deposit_date: dt.date
    bank_reference: str
    originator_id: str
    trace_number: str
    amount: Decimal
    deposit_type: str
    source_line: int
    account: str


def _records(text: str) -> list[tuple[int, list[str], int]]:
    """(physical line of the record's start, fields, physical records) with 88 continuations joined to the
    record before (the counts in the trailers count every physical record, continuations included)."""
    out: list[tuple[int, list[str], int]] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.endswith("/"):
            raise MappingError("BAI_SYNTAX", f"line {line_no}: a record must end with '/'")
        fields = line[:-1].split(",")
        code = fields[0]
        if code == "88":
            if not out:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: a continuation (88) before any record")
            line0, previous, n = out[-1]
            out[-1] = (line0, previous + fields[1:], n + 1)
            continue
        if code not in ("01", "02", "03", "16", "49", "98", "99"):
            raise MappingError("BAI_SYNTAX", f"line {line_no}: unknown record type {code[:4]!r}")
        out.append((line_no, fields, 1))
    return out


def _amount(text: str, line_no: int, what: str) -> int:
    value = text.strip()
    if not value:
        return 0
    if not re.fullmatch(r"[+-]?\d{1,18}", value):
        raise MappingError("BAI_SYNTAX", f"line {line_no}: {what} is not a whole number of minor units")
    return int(value)


def _date(text: str, line_no: int) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%y%m%d").date()
    except ValueError:
        raise MappingError("BAI_SYNTAX", f"line {line_no}: as-of date {text[:8]!r} is not YYMMDD") from None


def read(text: str) -> list[Deposit]:
    """Every credit detail of every account of every group, with all totals checked."""
    records = _records(text)
    if not records or records[0][1][0] != "01":
        raise MappingError("BAI_SYNTAX", "the file does not start with a 01 file header")
    if records[-1][1][0] != "99":
        raise MappingError("BAI_SYNTAX", "the file does not end with a 99 file trailer")
    deposits: list[Deposit] = []
    file_total = groups = 0
    group_total = group_accounts = account_total = 0
    as_of: dt.date | None = None
    group_start = account_start = None
    account = ""
    physical = [0]  # physical records before each logical one, for the trailers' record counts
    for _, _, n in records:
        physical.append(physical[-1] + n)

    def span(start: int, end: int) -> int:
        return physical[end + 1] - physical[start]

    for index, (line_no, f, _) in enumerate(records):
        code = f[0]
        if code == "02":
            if group_start is not None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: a group header inside an open group")
            if len(f) < 5:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: a 02 group header needs its as-of date")
            as_of, group_start, group_total, group_accounts = _date(f[4], line_no), index, 0, 0
        elif code == "03":
            if group_start is None or account_start is not None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: an account outside a group or inside another")
            account, account_start, account_total = f[1] if len(f) > 1 else "", index, 0
            # Summary fields after the currency: type code, amount, item count, funds type (repeating).
            summary = f[3:]
            for at in range(0, len(summary) - 1, 4):
                account_total += _amount(summary[at + 1], line_no, "a summary amount")
        elif code == "16":
            if account_start is None or as_of is None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: a transaction detail outside an account")
            if len(f) < 6:
                raise MappingError(
                    "BAI_SYNTAX", f"line {line_no}: a 16 record needs type, amount, funds type, references"
                )
            type_code, cents = f[1].strip(), _amount(f[2], line_no, "the amount")
            account_total += cents
            funds = f[3].strip()
            # Funds type S (distributed availability) and V (value dated) carry extra fields before the references.
            extra = {"S": 3, "V": 2, "D": 1 + 2 * int(f[4]) if len(f) > 4 and f[4].strip().isdigit() else 1}.get(
                funds, 0
            )
            rest = f[4 + extra :]
            bank_ref = rest[0].strip() if rest else ""
            customer_ref = rest[1].strip() if len(rest) > 1 else ""
            text_field = ",".join(rest[2:])
            if type_code.isdigit() and int(type_code) in CREDIT_TYPES:
                found = TRN.search(text_field) or TRN.search(customer_ref)
                deposits.append(
                    Deposit(
                        deposit_date=as_of,
                        bank_reference=bank_ref or f"{account}-{line_no}",
                        originator_id=found.group(2) if found else "",
                        trace_number=found.group(1) if found else customer_ref,
                        amount=Decimal(cents).scaleb(-2),
                        deposit_type={"165": "ACH", "169": "ACH", "175": "CHECK", "195": "WIRE"}.get(
                            type_code, "OTHER"
                        ),
                        source_line=line_no,
                        account=account,
                    )
                )
        elif code == "49":
            if account_start is None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: an account trailer without its account")
            declared, count = _amount(f[1], line_no, "the account control total"), _amount(f[2], line_no, "the count")
            if declared != account_total:
                raise MappingError(
                    "BAI_CONTROL_TOTAL",
                    f"line {line_no}: account control total {declared}, the records add up to {account_total}",
                )
            if count != span(account_start, index):
                raise MappingError(
                    "BAI_RECORD_COUNT",
                    f"line {line_no}: account record count {count}, found {span(account_start, index)}",
                )
            group_total += account_total
            group_accounts += 1
            account_start = None
        elif code == "98":
            if group_start is None or account_start is not None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: a group trailer with an account still open")
            declared = _amount(f[1], line_no, "the group control total")
            if declared != group_total:
                raise MappingError(
                    "BAI_CONTROL_TOTAL",
                    f"line {line_no}: group control total {declared}, its accounts add up to {group_total}",
                )
            if _amount(f[2], line_no, "the account count") != group_accounts:
                raise MappingError(
                    "BAI_RECORD_COUNT", f"line {line_no}: group account count {f[2]}, found {group_accounts}"
                )
            if len(f) > 3 and _amount(f[3], line_no, "the record count") != span(group_start, index):
                raise MappingError(
                    "BAI_RECORD_COUNT", f"line {line_no}: group record count {f[3]}, found {span(group_start, index)}"
                )
            file_total += group_total
            groups += 1
            group_start = None
        elif code == "99":
            if group_start is not None:
                raise MappingError("BAI_SYNTAX", f"line {line_no}: the file trailer with a group still open")
            declared = _amount(f[1], line_no, "the file control total")
            if declared != file_total:
                raise MappingError(
                    "BAI_CONTROL_TOTAL",
                    f"line {line_no}: file control total {declared}, its groups add up to {file_total}",
                )
            if _amount(f[2], line_no, "the group count") != groups:
                raise MappingError("BAI_RECORD_COUNT", f"line {line_no}: file group count {f[2]}, found {groups}")
            if len(f) > 3 and _amount(f[3], line_no, "the record count") != span(0, index):
                raise MappingError(
                    "BAI_RECORD_COUNT", f"line {line_no}: file record count {f[3]}, found {span(0, index)}"
                )
    return deposits
