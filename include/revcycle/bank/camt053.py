"""ISO 20022 camt.053 (BankToCustomerStatement, versions 001.02 to 001.13) to deposit lines.

Each ``Stmt`` is one account's statement: balances (``Bal``: opening OPBD/PRCD, closing CLBD) and entries
(``Ntry``).  A credit entry (``CdtDbtInd`` CRDT, status BOOK) is a deposit: its booking date, the bank's
reference (``AcctSvcrRef``), its amount; the payer's id and the trace come from the healthcare EFT
reassociation segment ``TRN*1*<trace>*<originator id>\\`` in the remittance information, else from the
end-to-end id and the debtor's id.  Checked: the document is well formed, has no DTD or entities (parsed
with defusedxml), is a camt.053 by its namespace; each statement's opening balance plus credits minus debits
equals its closing balance, and ``TxsSummry`` totals, when given, equal the entries.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from revcycle.bank.bai2 import TRN, Deposit
from revcycle.errors import MappingError

NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}Document$")


def read(data: bytes) -> list[Deposit]:
    try:
        root = ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise MappingError("CAMT_SYNTAX", f"refused: {type(exc).__name__} (no DTDs or entities)") from None
    except ElementTree.ParseError as exc:
        raise MappingError("CAMT_SYNTAX", f"not well-formed XML ({exc})") from None
    match = NAMESPACE.match(root.tag)
    if not match:
        raise MappingError("CAMT_SYNTAX", f"not a camt.053 document (root {root.tag[:120]!r})")
    ns = {"c": root.tag[1 : root.tag.index("}")]}
    statements = root.findall("c:BkToCstmrStmt/c:Stmt", ns)
    if not statements:
        raise MappingError("CAMT_SYNTAX", "no statement (BkToCstmrStmt/Stmt)")
    deposits: list[Deposit] = []
    for n, stmt in enumerate(statements, start=1):
        where = f"statement {n}"
        account = _text(stmt, "c:Acct/c:Id/c:IBAN", ns) or _text(stmt, "c:Acct/c:Id/c:Othr/c:Id", ns) or ""
        balances = {}
        for bal in stmt.findall("c:Bal", ns):
            code = _text(bal, "c:Tp/c:CdOrPrtry/c:Cd", ns)
            balances[code] = _signed(bal, ns, where)
        credits = debits = Decimal("0.00")
        for m, entry in enumerate(stmt.findall("c:Ntry", ns), start=1):
            at = f"{where} entry {m}"
            amount = _amount(entry, ns, at)
            indicator = _text(entry, "c:CdtDbtInd", ns)
            status = _text(entry, "c:Sts/c:Cd", ns) or _text(entry, "c:Sts", ns) or "BOOK"
            if indicator not in ("CRDT", "DBIT"):
                raise MappingError("CAMT_SYNTAX", f"{at}: CdtDbtInd must be CRDT or DBIT")
            if status != "BOOK":
                continue  # pending or informational entries move no money yet
            if indicator == "DBIT":
                debits += amount
                continue
            credits += amount
            booked = _date(_text(entry, "c:BookgDt/c:Dt", ns) or _text(entry, "c:BookgDt/c:DtTm", ns), at)
            remittance = " ".join(t.text or "" for t in entry.iter(f"{{{ns['c']}}}Ustrd"))
            found = TRN.search(remittance)
            reference = _text(entry, "c:AcctSvcrRef", ns) or _text(entry, "c:NtryRef", ns) or f"{account}-{n}-{m}"
            deposits.append(
                Deposit(
                    deposit_date=booked,
                    bank_reference=reference,
                    originator_id=found.group(2)
                    if found
                    else (_text(entry, ".//c:RltdPties/c:Dbtr//c:Othr/c:Id", ns) or ""),
                    trace_number=found.group(1) if found else (_text(entry, ".//c:Refs/c:EndToEndId", ns) or ""),
                    amount=amount,
                    deposit_type={"RCDT": "ACH", "RRTN": "ACH", "CCHQ": "CHECK", "RCHQ": "CHECK"}.get(
                        _text(entry, "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd", ns) or "", "OTHER"
                    ),
                    source_line=m,
                    account=account,
                )
            )
        opening = balances.get("OPBD", balances.get("PRCD"))
        closing = balances.get("CLBD")
        if opening is not None and closing is not None and opening + credits - debits != closing:
            raise MappingError(
                "CAMT_BALANCE",
                f"{where}: opening {opening} + credits {credits} - debits {debits} is not the closing balance {closing}",
            )
        for total, mine in (("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
            declared = _text(stmt, f"c:TxsSummry/c:{total}/c:Sum", ns)
            if declared is not None and _decimal(declared, where) != mine:
                raise MappingError(
                    "CAMT_BALANCE", f"{where}: {total} says {declared}, the booked entries add up to {mine}"
                )
    return deposits


def _text(node, path: str, ns: dict) -> str | None:
    found = node.find(path, ns)
    return found.text.strip() if found is not None and found.text else None


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MappingError("CAMT_SYNTAX", f"{where}: amount {text[:20]!r} is not a number") from None
    if value.as_tuple().exponent < -2 or value < 0:
        raise MappingError("CAMT_SYNTAX", f"{where}: amount {text[:20]!r} is not a positive amount with 2 decimals")
    return value.quantize(Decimal("0.01"))


def _amount(entry, ns: dict, where: str) -> Decimal:
    amt = entry.find("c:Amt", ns)
    if amt is None or not amt.text:
        raise MappingError("CAMT_SYNTAX", f"{where}: no Amt")
    if amt.get("Ccy") != "USD":
        raise MappingError("CAMT_SYNTAX", f"{where}: currency {amt.get('Ccy')!r}; deposits are reconciled in USD")
    return _decimal(amt.text.strip(), where)


def _signed(bal, ns: dict, where: str) -> Decimal:
    amount = _amount(bal, ns, where)
    return -amount if _text(bal, "c:CdtDbtInd", ns) == "DBIT" else amount


def _date(text: str | None, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        raise MappingError("CAMT_SYNTAX", f"{where}: booking date {str(text)[:20]!r} is not a date") from None
