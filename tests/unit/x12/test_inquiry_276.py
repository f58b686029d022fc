"""276 inquiries written to the TR3's shape and read back to the same claims; 999s read per AK2."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from revcycle.errors import X12Error
from revcycle.x12.acknowledgement import map_999
from revcycle.x12.inquiry import InquiryClaim, Party, interchange_control, map_inquiries, read_inquiries, write_276
from revcycle.x12.reader import Delimiters, X12Reader
from tests.conftest import sample_files

DAY = dt.date(2026, 11, 24)
ME = Party("ZZ", "SYNTHHOSP", "SYNTHETIC GENERAL HOSPITAL", npi="1999999984")
PAYER = Party("ZZ", "1123456789", "ACME HEALTH PLAN", payer_id="1123456789")


def claims(n: int) -> list[InquiryClaim]:
    return [
        InquiryClaim(
            f"PCN{k:05d}",
            f"ICN{k}" if k % 2 else None,
            Decimal(f"{100 + k}.{k % 100:02d}"),
            dt.date(2026, 10, 1 + k % 20),
            dt.date(2026, 10, 2 + k % 20),
            f"SYNTHLAST{k}",
            f"FIRST{k}",
            f"ZZMEMBER{k:04d}",
            dt.date(1960, 1, 1 + k % 28),
            "F",
        )
        for k in range(n)
    ]


STAR = Delimiters("*", ":", "^", "~")


def write(items: list[InquiryClaim], delimiters: Delimiters = STAR, per_set: int = 50) -> tuple[str, list]:
    buf = io.StringIO()
    sets = write_276(buf, delimiters, ME, PAYER, items, interchange_control(DAY, 1), DAY, per_set)
    return buf.getvalue(), sets


def segments(text: str) -> list[list[str]]:
    return list(X12Reader(io.BytesIO(text.encode())))


def test_written_276_reads_back_to_the_same_claims_without_phi():
    items = claims(7)
    text, written = write(items, per_set=3)
    assert [len(s.patient_control_numbers) for s in written] == [3, 3, 1]
    sets = list(map_inquiries(X12Reader(io.BytesIO(text.encode()))))  # envelope counts checked by the reader
    assert [s.transaction_control for s in sets] == ["0001", "0002", "0003"]
    assert {s.implementation for s in sets} == {"005010X212"}
    got = [c for s in sets for c in s.claims]
    assert [
        (
            c["patient_control_number"],
            c["payer_claim_control_number"],
            c["billed_amount"],
            c["service_date_from"],
            c["service_date_to"],
            c["payer_id"],
            c["provider_id"],
        )
        for c in got
    ] == [
        (
            c.patient_control_number,
            c.payer_claim_control_number,
            c.billed_amount,
            c.service_date_from,
            c.service_date_to,
            "1123456789",
            "1999999984",
        )
        for c in items
    ]
    assert all(c["member_token"] and c["trace_number"] == c["patient_control_number"] for c in got)
    assert "SYNTHLAST" not in repr(got) and "ZZMEMBER" not in repr(got)
    assert "SYNTHLAST3" in text  # the payer needs the subscriber's name: it is in the file, nowhere else


def test_written_276_follows_the_x212_structure():
    text, _ = write(claims(4), Delimiters("|", "^", "{", "~"), per_set=50)
    segs = segments(text)
    isa = text.split("~")[0]
    assert len(isa) == 105 and isa[3] == "|" and isa[-1] == "^"  # 106 with the terminator
    gs = next(s for s in segs if s[0] == "GS")
    assert (gs[1], gs[8]) == ("HR", "005010X212")
    body = [s for s in segs if s[0] not in ("ISA", "GS", "GE", "IEA")]
    assert body[0][:4] == ["ST", "276", "0001", "005010X212"]
    assert body[1][:3] == ["BHT", "0010", "13"]  # request, original
    hls = [s for s in body if s[0] == "HL"]
    parents = {s[1]: s[3] for s in hls}
    for hl in hls:
        level, parent = hl[3], hl[2]
        expected_parent = {"20": None, "21": "20", "19": "21", "22": "19"}[level]
        assert (parents.get(parent) if parent else None) == expected_parent
    # Every subscriber loop carries what 2000D/2100D/2200D require, in TR3 order.
    loops, current = [], None
    for s in body:
        if s[0] == "HL" and s[3] == "22":
            current = []
            loops.append(current)
        elif s[0] == "SE":
            current = None
        elif current is not None:
            current.append(s[0] if s[0] not in ("REF", "NM1", "AMT", "DTP") else f"{s[0]}*{s[1]}")
    assert len(loops) == 4
    for loop in loops:
        required = ["DMG", "NM1*IL", "TRN", "REF*EJ", "AMT*T3", "DTP*472"]
        assert [x for x in loop if x != "REF*1K"] == required
    se = body[-1]
    assert se[0] == "SE" and int(se[1]) == len(body)


def test_control_numbers_come_from_the_business_day_and_never_collide():
    assert interchange_control(DAY, 1) == 263280001
    assert interchange_control(DAY, 1) == interchange_control(DAY, 1)
    numbers = {interchange_control(DAY + dt.timedelta(days=d), n) for d in range(400) for n in (1, 2, 9999)}
    assert len(numbers) == 1200 and all(len(str(n)) <= 9 for n in numbers)
    with pytest.raises(ValueError):
        interchange_control(DAY, 10000)


def test_no_claims_no_file():
    with pytest.raises(ValueError):
        write([])


EXPECTED_276 = {  # claims (TRN per subscriber/dependent) and their patient control numbers, per sample
    "lfh-x12__claim-level-status.276": ["SM123456", "J0234567", "MA345678"],
    "lfh-x12__provider-level-status.276": ["SM123456", "MA345678"],
    "lfh-x12__information-receiver-level-status.276": ["SM123456"],
    "lfh-x12__claim-level-status-ncpdp.276": ["ABCXYZ1"],
}


@pytest.mark.parametrize("path", sample_files("x12/276"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_sample_276_read_back_by_the_same_reader(path):
    sets = read_inquiries(path)
    assert [c["patient_control_number"] for s in sets for c in s.claims] == EXPECTED_276[path.name]


EXPECTED_999 = {  # (AK1-02, AK9-01, [(AK2-01, AK2-02, IK5-01)]) per 999 transaction set
    "imsweb__x12_999_rejected.txt": [("28", "R", [("837", "0028", "R")])],
    "pyx12__834_ls_le_ls_5010.999.txt": [("146", "A", [("834", "146001", "A")])],
    "pyx12__834_lui_id_5010.999.txt": [("13360001", "A", [("834", "0001", "A")])] * 4,
    "staedi__simple999.edi": [("17456", "P", [("837", "0001", "A"), ("837", "0002", "R"), ("837", "0003", "R")])],
}


@pytest.mark.parametrize("path", sample_files("x12/999"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_sample_999_answers_per_set(path):
    with open(path, "rb") as fh:
        if path.name == "imsweb__x12_999_accepted.txt":  # IEA02 != ISA13 in the source (SOURCES.md)
            with pytest.raises(X12Error, match="IEA_CONTROL_MISMATCH"):
                list(map_999(X12Reader(fh)))
            return
        acks = list(map_999(X12Reader(fh)))
    got = [
        (a.acknowledged_group, a.group_status, [(s["set_id"], s["set_control"], s["status"]) for s in a.sets])
        for a in acks
    ]
    assert got == EXPECTED_999[path.name]
    if path.name == "staedi__simple999.edi":
        rejected = acks[0].sets[1]
        assert rejected["syntax_codes"] == ["5"] and rejected["error_segments"] == ["CLM@22:8"]
        assert rejected["element_errors"] == 1
        assert "987654321" not in repr(acks) and "SITUATIONAL" not in repr(acks)  # CTX values never copied


def test_synthetic_999_partial_acceptance_read_per_set():
    text = (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*SYNTHHOSP      *261125*0800*^*00501*000000077*0*P*:~"
        "GS*FA*PAYER*SYNTHHOSP*20261125*0800*77*X*005010X231A1~ST*999*0001*005010X231A1~"
        "AK1*HR*263280001*005010X212~AK2*276*0001~IK5*A~AK2*276*0002~IK3*NM1*7**8~CTX*CLM01:SECRET1~IK4*9**7~"
        "IK5*R*5~AK9*P*2*2*1~SE*11*0001~GE*1*77~IEA*1*000000077~"
    )
    (ack,) = map_999(X12Reader(io.BytesIO(text.encode())))
    assert (ack.functional_id, ack.acknowledged_group, ack.group_status) == ("HR", "263280001", "P")
    assert [(s["set_control"], s["status"], s["syntax_codes"], s["error_segments"]) for s in ack.sets] == [
        ("0001", "A", [], []),
        ("0002", "R", ["5"], ["NM1@7:8"]),
    ]
    assert "SECRET1" not in repr(ack)
