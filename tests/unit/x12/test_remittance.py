"""835 mapping to canonical records: amounts, keys, CAS/PLB detail, reversals; and the real samples' answers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from revcycle.errors import RevcycleError
from revcycle.x12.balancing import is_balanced
from revcycle.x12.remittance import read_remittances, summarise
from tests.conftest import FIXTURES, SAMPLES, sample_files

FIX = FIXTURES / "x12" / "835"
D = Decimal


def sets_of(path, chunk=None):
    return [r for _, r in read_remittances(path, chunk)]


# Expected answers for our synthetic fixtures, worked out by hand from their segments.
FIXTURE_ANSWERS = {
    "paid-claims-four-cas-groups.835": [("0001", 2, "348.50", "370", "21.5")],
    "reversal-and-correction.835": [("0002", 3, "10", "10", "0")],
    "legacy-4010-pipe-caret.835": [("0003", 1, "100", "100", "0")],
    "two-interchanges-different-delimiters.835": [("0041", 1, "80", "80", "0"), ("0051", 1, "55.25", "55.25", "0")],
    "unbalanced-transaction.835": [("0005", 1, "99", "100", "0")],
}


@pytest.mark.parametrize("name", sorted(FIXTURE_ANSWERS))
def test_fixture_totals(name):
    got = [(s["st02"], s["claims"], s["bpr02"], s["sum_clp04"], s["sum_plb"]) for s in summarise(sets_of(FIX / name))]
    assert got == [(st, n, D(b), D(c), D(p)) for st, n, b, c, p in FIXTURE_ANSWERS[name]]


def test_cas_triplets_at_claim_and_line_level_in_all_groups():
    (rset,) = sets_of(FIX / "paid-claims-four-cas-groups.835")
    adj = sorted((a["level"], a["group_code"], a["reason_code"], a["amount"]) for a in rset.adjustments)
    assert adj == sorted(
        [
            ("service_line", "CO", "45", D("150")),
            ("service_line", "PR", "2", D("50")),
            ("claim", "OA", "23", D("100")),
            ("service_line", "CO", "45", D("20")),
            ("service_line", "PI", "94", D("10")),
        ]
    )
    assert {a["group_code"] for a in rset.adjustments} == {"CO", "PR", "OA", "PI"}
    plb = [(p["reason_code"], p["reference"], p["amount"]) for p in rset.provider_adjustments]
    assert plb == [("WO", "ICN0099", D("25")), ("L6", "INT0001", D("-3.5"))]
    line = rset.service_line_payments[0]
    assert (line["procedure_qualifier"], line["procedure_code"], line["procedure_modifiers"]) == ("HC", "99213", "25")
    assert line["line_control_number"] == "L0001"
    assert is_balanced(rset) == {"service_line": True, "claim": True, "transaction": True}


def test_reversal_carries_negative_amounts_and_its_correction_follows():
    (rset,) = sets_of(FIX / "reversal-and-correction.835")
    reversal, corrected, denial = rset.claim_payments
    assert reversal["is_reversal"] and reversal["claim_status_code"] == "22"
    assert (reversal["charge_amount"], reversal["paid_amount"]) == (D("-400"), D("-250"))
    assert corrected["patient_control_number"] == reversal["patient_control_number"] and not corrected["is_reversal"]
    # 2100 REF*F8 on the correction names the claim it replaces; the first REF*F8 wins.
    assert (reversal["original_reference"], corrected["original_reference"]) == (None, "ICN0003")
    assert denial["claim_status_code"] == "4" and denial["paid_amount"] == 0
    assert len({c["claim_payment_key"] for c in rset.claim_payments}) == 3


def test_keys_come_from_business_identity_and_are_stable():
    first = sets_of(FIX / "paid-claims-four-cas-groups.835")[0]
    again = sets_of(FIX / "paid-claims-four-cas-groups.835", 13)[0]
    assert first.remittance["remittance_key"] == again.remittance["remittance_key"]
    assert [a["adjustment_key"] for a in first.adjustments] == [a["adjustment_key"] for a in again.adjustments]
    assert re.fullmatch(r"[0-9a-f]{32}", first.remittance["remittance_key"])


def test_no_names_and_only_tokens_of_member_ids():
    (rset,) = sets_of(FIX / "paid-claims-four-cas-groups.835")
    text = repr(rset.claim_payments) + repr(rset.remittance)
    for phi in ("SYNTHOAK", "AVERY", "ZZ000000001"):
        assert phi not in text
    assert rset.claim_payments[0]["patient_token"] and len(rset.claim_payments[0]["patient_token"]) == 32


def test_bad_amount_is_a_specific_mapping_error(tmp_path):
    bad = tmp_path / "bad.835"
    bad.write_text(
        FIX.joinpath("paid-claims-four-cas-groups.835")
        .read_text()
        .replace("CLP*PCN0001*1*500*300", "CLP*PCN0001*1*5O0*300")
    )
    with pytest.raises(RevcycleError) as info:
        sets_of(bad)
    assert info.value.reason == "BAD_NUMBER"
    assert "PCN0001" not in str(info.value)


# --- the real third-party samples: answers from ../shared/samples/SOURCES.md -------------------------------
SAMPLE_ANSWERS = {
    # file: (interchanges, [(st02, claims, bpr02, sum_clp04, sum_plb)])
    "lfh-x12__medicare-part-a.835": (1, [("1234", 2, "150000.00", "149998.73", "-1.27")]),
    "lfh-x12__managed-care.835": (1, [("112233", 2, "945.00", "945.00", "0")]),
    "lfh-x12__secondary-payment.835": (1, [("1234", 2, "1222.00", "1222.00", "0")]),
    "lfh-x12__tertiary-payment.835": (1, [("0001", 1, "187.50", "187.50", "0")]),
    "lfh-x12__cob-contractural-adjustment.835": (1, [("0001", 1, "34.00", "34.00", "0")]),
    "badx12__X221-multiple-claims-single-check.edi": (1, [("35681", 9, "810.8", "810.8", "0")]),
    "badx12__X221-dollars-and-data-sent-together.edi": (1, [("1234", 2, "150000", "149998.73", "-1.27")]),
    "edi835parser__emedny_sample.txt": (1, [("1740", 3, "45.75", "45.75", "0")]),
    "edi835parser__united_healthcare_legacy_sample.txt": (1, [("000000064", 2, "349.99", "349.99", "0")]),
    "tastypackets__profee.edi": (1, [("1740", 3, "45.75", "45.75", "0")]),
    "pyx12__835_mult_loops.txt": (1, [("0001", 1, "0", "0", "0")]),
    "oopfactory__ExampleFromNth.txt": (
        3,
        [
            ("8001", 19, "999.99", "776.06", "0"),
            ("9001", 23, "9999.99", "3111.09", "0"),
            ("10001", 14, "482.13", "3439.89", "0"),
        ],
    ),
    "oopfactory__835_DeIdent_01.dat": (1, [("999999", 96, "99999.99", "66417.62", "0")]),
}


# Refused by the mapper, each with its own reason (SOURCES.md names the quirk).
SAMPLE_REFUSALS = {
    "tigershark__835-example-2.txt": "SE_COUNT_MISMATCH",  # SE01 28 vs 29 actual segments
    # SVC01 written with '>' although ISA16 is ':', or not a composite at all: reading it as one
    # component would put the qualifier where the procedure code belongs (issue 13, item 10).
    "lfh-x12__secondary-payment.835": "BAD_PROCEDURE_COMPOSITE",
    "lfh-x12__cob-contractural-adjustment.835": "BAD_PROCEDURE_COMPOSITE",
    "lfh-x12__tertiary-payment.835": "BAD_PROCEDURE_COMPOSITE",
    "oopfactory__835_DeIdent_01.dat": "UNSUPPORTED_VERSION",  # de-identification masked GS08 as 999999X999X9
}


@pytest.mark.samples
@pytest.mark.parametrize("path", sample_files("x12/835"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_sample_835_totals_match_sources_md(path):
    if path.name in SAMPLE_REFUSALS:
        with pytest.raises(RevcycleError) as info:
            sets_of(path)
        assert info.value.reason == SAMPLE_REFUSALS[path.name]
        return
    interchanges, expected = SAMPLE_ANSWERS[path.name]
    rsets, readers = [], set()
    for reader, rset in read_remittances(path, 512):
        rsets.append(rset)
        readers.add(id(reader))
    assert len(reader.interchanges) == interchanges
    got = [(s["st02"], s["claims"], s["bpr02"], s["sum_clp04"], s["sum_plb"]) for s in summarise(rsets)]
    assert got == [(st, n, D(b), D(c), D(p)) for st, n, b, c, p in expected]


@pytest.mark.samples
def test_sample_reversals_and_status_counts(tmp_path):
    path = SAMPLES / "x12" / "835" / "oopfactory__835_DeIdent_01.dat"
    if not path.exists():
        pytest.skip("samples absent")
    # Its de-identification masked the version (GS08 999999X999X9, refused as such); restored, it maps.
    restored = tmp_path / path.name
    restored.write_bytes(path.read_bytes().replace(b"999999X999X9", b"005010X221A1"))
    (rset,) = sets_of(restored)
    counts = {}
    for c in rset.claim_payments:
        counts[c["claim_status_code"]] = counts.get(c["claim_status_code"], 0) + 1
    assert counts == {"1": 51, "2": 26, "22": 19}
    assert sum(1 for c in rset.claim_payments if c["is_reversal"]) == 19
    assert any(a["group_code"] == "CR" for a in rset.adjustments)


@pytest.mark.samples
def test_sample_remark_codes_are_kept_known_or_not():
    from tests.conftest import samples_dir

    src = samples_dir("x12/835")
    (medicare,) = sets_of(src / "lfh-x12__medicare-part-a.835")
    assert [(r["segment"], r["remark_code"], r["level"]) for r in medicare.remarks] == [("MOA", "MA02", "claim")]
    (emedny,) = sets_of(src / "edi835parser__emedny_sample.txt")
    assert ("LQ", "N206", "service_line") in {(r["segment"], r["remark_code"], r["level"]) for r in emedny.remarks}


def test_remark_codes_at_claim_and_line_level(tmp_path):
    text = FIX.joinpath("paid-claims-four-cas-groups.835").read_text()
    text = text.replace("DTM*232*20261101~", "MOA***MA01*ZZ99~DTM*232*20261101~", 1)
    text = text.replace("REF*6R*L0001~", "REF*6R*L0001~LQ*HE*N130~", 1)
    text = text.replace("SE*29*0001", "SE*31*0001")
    path = tmp_path / "remarks.835"
    path.write_text(text)
    (rset,) = sets_of(path)
    assert sorted((r["segment"], r["remark_code"], r["level"]) for r in rset.remarks) == [
        ("LQ", "N130", "service_line"),
        ("MOA", "MA01", "claim"),
        ("MOA", "ZZ99", "claim"),
    ]
    import datetime as dt

    from revcycle.jobs.inspect import inspect_path

    out = inspect_path(path, dt.date(2026, 11, 20))
    assert out["quarantine"] is None and "UNKNOWN_RARC" in out["warnings"]  # unknown code flagged, never dropped
