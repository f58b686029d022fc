"""BAI2 and camt.053 bank statements read to deposit lines, every total checked; malformed ones refused with
a reason.  Synthetic files (no public bank statement sample with a licence that allows its use was found):
written by the generator's writers, then mutated one way per case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revcycle.bank import bai2, camt053
from revcycle.errors import MappingError
from revcycle.synthetic import bank_statements

ROWS = [
    {
        "deposit_date": "2026-11-24",
        "bank_reference": "BNK1",
        "originator_id": "1123456789",
        "trace_number": "T1",
        "amount": "1234.56",
        "deposit_type": "ACH",
    },
    {
        "deposit_date": "2026-11-24",
        "bank_reference": "BNK2",
        "originator_id": "1999888777",
        "trace_number": "000042",
        "amount": "0.10",
        "deposit_type": "CHECK",
    },
    {
        "deposit_date": "2026-11-25",
        "bank_reference": "BNK3",
        "originator_id": "1123456789",
        "trace_number": "T3",
        "amount": "99999.99",
        "deposit_type": "ACH",
    },
]
CREATED = dt.datetime(2026, 11, 25, 6, 0)


def as_lines(deposits) -> list[tuple]:
    return [
        (str(d.deposit_date), d.bank_reference, d.originator_id, d.trace_number, str(d.amount), d.deposit_type)
        for d in deposits
    ]


EXPECTED = [
    (r["deposit_date"], r["bank_reference"], r["originator_id"], r["trace_number"], r["amount"], r["deposit_type"])
    for r in ROWS
]


def test_bai2_reads_every_credit_with_its_trn_reassociation():
    deposits = bai2.read(bank_statements.bai2(ROWS, CREATED))
    assert as_lines(deposits) == EXPECTED
    assert all(isinstance(d.amount, Decimal) for d in deposits)


def test_camt053_reads_every_booked_credit():
    deposits = camt053.read(bank_statements.camt053(ROWS, CREATED).encode())
    assert [(x[0], x[1], x[2], x[3], x[4], x[5]) for x in as_lines(deposits)] == EXPECTED


def test_bai2_without_trn_keeps_the_customer_reference_and_skips_debits():
    text = (
        "01,BANK,US,261124,0600,1,80,,2/\n02,US,BANK,1,261124,2359,USD,2/\n03,1,USD,010,0,,/\n"
        "16,165,500,Z,REF1,CUST1,NO ADDENDA/\n16,475,200,Z,REF2,CUST2,CHECK PAID/\n"
        "49,700,4/\n98,700,1,6/\n99,700,1,8/\n"
    )
    [only] = bai2.read(text)
    assert (only.bank_reference, only.trace_number, only.originator_id, only.amount) == (
        "REF1",
        "CUST1",
        "",
        Decimal("5.00"),
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t.replace("/\n", "\n", 1), "BAI_SYNTAX"),
        (lambda t: t.replace("16,165,123456,", "16,165,123457,", 1), "BAI_CONTROL_TOTAL"),
        (lambda t: t.replace("16,165,123456,", "16,165,12x456,", 1), "BAI_SYNTAX"),
        (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("99,")), "BAI_SYNTAX"),
        (lambda t: t.replace("88,TRN", "88,TRN,extra", 1).replace("88,", "88,", 1), None),
        (lambda t: t.replace("02,REVCYCLE,091000019,1,261124", "02,REVCYCLE,091000019,1,261131", 1), "BAI_SYNTAX"),
        (lambda t: t.replace("\n98,", "\n17,x/\n98,", 1), "BAI_SYNTAX"),
        (lambda t: "88,orphan/\n" + t, "BAI_SYNTAX"),
        (lambda t: _drop_line(t, "88,TRN*1*T1"), "BAI_RECORD_COUNT"),
    ],
)
def test_bai2_malformed(mutate, reason):
    text = mutate(bank_statements.bai2(ROWS, CREATED))
    if reason is None:
        bai2.read(text)  # a continuation with more text still reads
        return
    with pytest.raises(MappingError) as err:
        bai2.read(text)
    assert err.value.reason == reason


def _drop_line(text: str, start: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(start)) + "\n"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda x: x.replace('<Amt Ccy="USD">1234.56</Amt>', '<Amt Ccy="USD">1234.57</Amt>', 1), "CAMT_BALANCE"),
        (lambda x: x.replace("camt.053.001.08", "camt.052.001.08"), "CAMT_SYNTAX"),
        (lambda x: x.replace("</Document>", ""), "CAMT_SYNTAX"),
        (lambda x: x.replace('Ccy="USD">0.10', 'Ccy="EUR">0.10'), "CAMT_SYNTAX"),
        (lambda x: x.replace("<Dt>2026-11-25</Dt></BookgDt>", "<Dt>2026-13-25</Dt></BookgDt>"), "CAMT_SYNTAX"),
        (lambda x: x.replace("<Sum>101234.65</Sum>", "<Sum>101234.66</Sum>"), "CAMT_BALANCE"),
        (lambda x: x.replace("<CdtDbtInd>CRDT</CdtDbtInd><Sts>", "<CdtDbtInd>CRED</CdtDbtInd><Sts>", 1), "CAMT_SYNTAX"),
        (
            lambda x: x.replace(
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
            ),
            "CAMT_SYNTAX",
        ),
    ],
)
def test_camt053_malformed(mutate, reason):
    data = mutate(bank_statements.camt053(ROWS, CREATED)).encode()
    with pytest.raises(MappingError) as err:
        camt053.read(data)
    assert err.value.reason == reason


def test_camt053_pending_entries_move_no_money():
    text = bank_statements.camt053(ROWS, CREATED).replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts><Cd>PDNG</Cd></Sts>", 1)
    text = text.replace("<Sum>101234.65</Sum>", "<Sum>100000.09</Sum>")
    text = text.replace(
        '<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">101234.65',
        '<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">100000.09',
    )
    assert [d.bank_reference for d in camt053.read(text.encode())] == ["BNK2", "BNK3"]
