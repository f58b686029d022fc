"""The synthetic day's bank deposit lines as the banks send them: BAI2 and ISO 20022 camt.053.

Each deposit is an ACH credit (CCD+, BAI type 165 / camt RCDT) or a check deposit (BAI 175 / camt CCHQ) whose
detail text carries the healthcare EFT reassociation segment ``TRN*1*<trace>*<payer id>\\``, as the
bank passes on the ACH addenda.  ``convert`` turns the generator's CSV into either format (the same lines).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ACCOUNT = "000123456789"
BANK = "091000019"
HOSPITAL = "REVCYCLE HOSPITAL"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def bai2(rows: list[dict], created: dt.datetime) -> str:
    """One group per deposit date, one account, a 16 record per deposit; every total and count filled in."""
    lines = [f"01,{BANK},REVCYCLE,{created:%y%m%d},{created:%H%M},1,80,,2/"]
    file_total = groups = 0
    by_day: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_day[r["deposit_date"]].append(r)
    for day in sorted(by_day):
        group = [f"02,REVCYCLE,{BANK},1,{dt.date.fromisoformat(day):%y%m%d},2359,USD,2/"]
        details = []
        for r in by_day[day]:
            cents = int(Decimal(r["amount"]) * 100)
            code = "175" if r.get("deposit_type") == "CHECK" else "165"
            details.append(f"16,{code},{cents},Z,{r['bank_reference']},{r['trace_number']},HCCLAIMPMT/")
            details.append(f"88,TRN*1*{r['trace_number']}*{r['originator_id']}\\/")
        credits = sum(int(Decimal(r["amount"]) * 100) for r in by_day[day])
        account = [f"03,{ACCOUNT},USD,010,0,,,015,0,,/", *details]
        account.append(f"49,{credits},{len(account) + 1}/")
        group += account
        group.append(f"98,{credits},1,{len(group) + 1}/")
        lines += group
        file_total += credits
        groups += 1
    lines.append(f"99,{file_total},{groups},{len(lines) + 1}/")
    return "\n".join(lines) + "\n"


def camt053(rows: list[dict], created: dt.datetime) -> str:
    """One statement, an entry per deposit; opening balance 0, closing = the credits; totals summarised."""
    total = sum((Decimal(r["amount"]) for r in rows), Decimal("0.00"))
    entries = []
    for r in rows:
        family = "CCHQ" if r.get("deposit_type") == "CHECK" else "RCDT"
        entries.append(
            f"""<Ntry><Amt Ccy="USD">{Decimal(r["amount"]):.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>{r["deposit_date"]}</Dt></BookgDt><ValDt><Dt>{r["deposit_date"]}</Dt></ValDt>
<AcctSvcrRef>{escape(r["bank_reference"])}</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>{family}</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>{escape(r["trace_number"])}</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Id><OrgId><Othr><Id>{escape(r["originator_id"])}</Id></Othr></OrgId></Id></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>TRN*1*{escape(r["trace_number"])}*{escape(r["originator_id"])}\\</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    day = max((r["deposit_date"] for r in rows), default=f"{created:%Y-%m-%d}")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>STMT{created:%Y%m%d%H%M}</MsgId><CreDtTm>{created:%Y-%m-%dT%H:%M:%S}</CreDtTm></GrpHdr>
<Stmt><Id>STMT{day}</Id><CreDtTm>{created:%Y-%m-%dT%H:%M:%S}</CreDtTm>
<Acct><Id><Othr><Id>{ACCOUNT}</Id></Othr></Id><Ccy>USD</Ccy><Ownr><Nm>{HOSPITAL}</Nm></Ownr></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">{total:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<TxsSummry><TtlNtries><NbOfNtries>{len(rows)}</NbOfNtries></TtlNtries><TtlCdtNtries><NbOfNtries>{len(rows)}</NbOfNtries><Sum>{total:.2f}</Sum></TtlCdtNtries></TxsSummry>
{"".join(entries)}
</Stmt></BkToCstmrStmt></Document>
"""


def convert(csv_path: Path, kind: str, created: dt.datetime | None = None) -> Path:
    """Replace the generator's deposit CSV with the same lines as a BAI2 (``.bai``) or camt.053 (``.xml``) file."""
    created = created or dt.datetime(2026, 11, 25, 6, 0)
    rows = read_csv(csv_path)
    if kind == "bai2":
        target = csv_path.with_suffix(".bai")
        target.write_text(bai2(rows, created), encoding="ascii")
    elif kind == "camt053":
        target = csv_path.with_suffix(".xml")
        target.write_text(camt053(rows, created), encoding="utf-8")
    else:
        raise ValueError(f"bank statement format {kind!r}: bai2 or camt053")
    csv_path.unlink()
    return target
