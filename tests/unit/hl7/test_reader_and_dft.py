"""HL7 v2: the fast reader, DFT mapping, item normalisation and ACKs, on the samples and our fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from revcycle.domain.gs1 import gtin_check_ok
from revcycle.hl7.ack import AckInput, build_ack
from revcycle.hl7.dft import map_dft
from revcycle.hl7.reader import BrokenMessage, Message, read_messages, read_text
from tests.conftest import FIXTURES, sample_files

HL7 = FIXTURES / "hl7"


def dft_rows(path: Path) -> list[tuple]:
    out = []
    for m in read_messages(path):
        if isinstance(m, Message) and m.message_type[0] == "DFT":
            out += [
                (
                    r["message_control_id"],
                    r["item_code"],
                    r["quantity"],
                    r["charge_amount"],
                    r["procedure_code"],
                    r["gtin"],
                )
                for r in map_dft(m)
            ]
    return out


# (message control id, FT1-7 code, quantity, extended amount, FT1-25 procedure, device GTIN) per sample
EXPECTED_FT1 = {
    "fhirconverter__DFT-P03-01.hl7": [
        ("MSG00001", "71045", Decimal(2), Decimal(100), "71045", "00643169001763"),
        ("MSG00001", "626.2", Decimal(1), Decimal(120), "99011", None),
    ],
    "fhirconverter__DFT-P11-01.hl7": [
        ("MSG00001", "71045", Decimal(2), Decimal(100), "71045", "00643169001763"),
        ("MSG00001", "92002", Decimal(1), Decimal(70), "92002", None),
    ],
    "nodehl7complete__mieweb-dft-example.hl7": [
        ("DSD1184185250", "73630", Decimal(1), None, "73630", None),
        ("DSD1184189125", "76775", Decimal(1), None, "76775", None),
    ],
    # The quantity sits in FT1-9 in this file (SOURCES.md); FT1-10 is empty, so one unit is assumed.
    "rethinkhealth__dft-p03-charge.hl7": [("FIN00001", "99213", Decimal(1), Decimal("150.00"), None, None)],
}
NOT_DFT = {
    "fhirconverter__ADT-A01-01.hl7": ("ADT", "A01"),
    "fhirconverter__ADT-A01-02.hl7": ("ADT", "A01"),
    "fhirconverter__ADT-A03-01.hl7": ("ADT", "A03"),
    "rethinkhealth__adt-a01-full.hl7": ("ADT", "A01"),
    "rethinkhealth__edge-escaped-delimiters.hl7": ("ADT", "A01"),
    "lfh-hl7v2fhir__sample_unix.hl7": ("ADT", "A01"),
}


@pytest.mark.parametrize("path", sample_files("hl7"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_every_sample_is_read(path):
    messages = list(read_messages(path))
    assert messages and not [m for m in messages if isinstance(m, BrokenMessage)]
    if path.name in EXPECTED_FT1:
        assert dft_rows(path) == EXPECTED_FT1[path.name]
    else:
        assert {m.message_type for m in messages} == {NOT_DFT[path.name]}


def test_sample_escaped_delimiters_decode(samples=None):
    from tests.conftest import samples_dir

    (msg,) = read_messages(samples_dir("hl7") / "rethinkhealth__edge-escaped-delimiters.hl7")
    pid = msg.segments_named("PID")[0]
    assert msg.value(pid[5], 1) == "DOE&SMITH" and msg.value(pid[5], 2) == "JOHN^JANE"
    obx = msg.segments_named("OBX")[0]
    assert msg.value(obx[5]) == (
        "Result contains pipe | and ampersand & and caret ^ and tilde ~ and backslash \\ chars"
    )


def test_sample_device_udi_from_prt_has_a_valid_check_digit():
    from tests.conftest import samples_dir

    (msg,) = read_messages(samples_dir("hl7") / "fhirconverter__DFT-P03-01.hl7")
    row = map_dft(msg)[0]
    assert (row["lot"], row["serial"], row["expiry_date"]) == ("123ABC", "21A11F4855", dt.date(2022, 7, 12))
    assert gtin_check_ok(row["gtin"])


def test_fixture_batch_crlf_fhs_blank_lines_and_escapes():
    messages = list(read_messages(HL7 / "batch_crlf_fhs.hl7"))
    assert [m.control_id for m in messages] == ["FIXB0001", "FIXB0002", "FIXB0003"]
    assert [m.message_type for m in messages] == [("DFT", "P03"), ("DFT", "P03"), ("ADT", "A08")]
    rows = map_dft(messages[0])
    assert [(r["item_code"], r["item_text"], r["quantity"], r["charge_amount"], r["unit_cost"]) for r in rows] == [
        ("ORA-HS-1001", "Hip stem&cup", Decimal(1), Decimal("1850.00"), Decimal("1850.00")),
        ("GAU-GZ-4410", "Gauze 4x4", Decimal(4), Decimal("27.00"), Decimal("6.75")),
    ]
    implant = rows[0]
    assert (implant["gtin"], implant["lot"], implant["serial"], implant["case_id"], implant["consignment_flag"]) == (
        "10614141000101",
        "LOT000111",
        "SN-FIX-0001",
        "CASE26112400001",
        True,
    )
    assert rows[1]["procedure_modifiers"] == "RT,59" and rows[1]["gtin"] is None
    assert all(r["patient_token"] and r["encounter_token"] for r in rows)
    assert "SYNTHTEST" not in repr(rows) and "SMRN" not in repr(rows) and "19700101" not in repr(rows)


def test_fixture_charsets_utf8_declared_and_latin1_undeclared():
    utf8, latin = read_messages(HL7 / "charsets_lf.hl7")
    assert utf8.charset == "utf-8" and latin.charset == "latin-1"
    assert map_dft(utf8)[0]["item_text"] == "Stent r\u00e9sistant \u2013 3.0"
    assert map_dft(utf8)[0]["gtin"] == "10614141000156"  # from a GS1 UDI string in ZIM-2
    assert map_dft(latin)[0]["item_text"] == "Suture r\u00e9sorbable"


def test_fixture_malformed_messages_get_their_reasons():
    got = []
    for m in read_messages(HL7 / "malformed_batch.hl7"):
        if isinstance(m, BrokenMessage):
            got.append((m.control_id, m.reason))
            continue
        try:
            map_dft(m)
            got.append((m.control_id, "ok"))
        except Exception as exc:  # noqa: BLE001 - the reason is what is asserted
            got.append((m.control_id, getattr(exc, "reason", repr(exc))))
    assert got == [
        ("", "NO_MSH"),
        ("FIXM0001", "ok"),
        ("FIXM0002", "BAD_NUMBER"),
        ("FIXM0003", "FT1_WITHOUT_PID"),
        ("", "BAD_ENCODING_CHARACTERS"),
        ("FIXM0005", "ok"),
        ("FIXM0006", "ok"),
        ("FIXM0007", "ok"),
    ]
    # (GTIN check digit and quantity 0 are business rules applied after mapping: see the pipeline test.)


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"])
def test_segment_endings_all_read_the_same(ending):
    text = ending.join(
        ["MSH|^~\\&|A|B|C|D|20261124||DFT^P03|X1|P|2.5", "PID|1||M1", "FT1|1|||20261124||CG|I1|||2|4.00"]
    )
    (msg,) = read_text(text + ending)
    assert [s[0] for s in msg.segments] == ["MSH", "PID", "FT1"] and map_dft(msg)[0]["quantity"] == 2


def test_other_delimiters_from_msh():
    text = "MSH#*@!%#A#B#C#D#20261124##DFT*P03#X2#P#2.5\rPID#1##M1\rFT1#1###20261124##CG#I1*Item !F! text###3#9.00"
    (msg,) = read_text(text)
    row = map_dft(msg)[0]
    assert (row["item_code"], row["item_text"], row["quantity"]) == ("I1", "Item # text", Decimal(3))


def test_acks_are_valid_hl7_by_hl7apy_and_carry_no_values():
    for code in ("AA", "AE", "AR"):
        text = build_ack(
            AckInput(
                code,
                "SUP1",
                "ORSYS",
                "SYNTHHOSP",
                "ERP",
                "SYNTHHOSP",
                "20261124083000",
                "P03",
                "2.5.1",
                None if code == "AA" else "BAD_NUMBER",
                None if code == "AA" else "102",
                "FT1^1^10",
                "FT1 #1 quantity (FT1-10) is not a number",
            ),
            1,
        )
        msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
        assert msg.validate()
        assert (msg.msa.msa_1.value, msg.msa.msa_2.value) == (code, "SUP1")
        if code != "AA":
            assert msg.err.err_2.to_er7() == "FT1^1^10"
            assert msg.err.err_3.to_er7() == "102^Data type error^HL70357"
            assert msg.err.err_5.to_er7().startswith("BAD_NUMBER")
    # Replays write the same bytes: the ACK time is the message's own MSH-7.
    a = AckInput("AA", "SUP1", timestamp="20261124083000")
    assert build_ack(a, 1) == build_ack(a, 1)
