"""The synthetic business day: its manifest agrees with the files, it is seeded, and pyx12 accepts its 835s."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from revcycle.sources.ig_validation import error_counts
from revcycle.synthetic.day import generate_day, sha256_file
from revcycle.x12.balancing import is_balanced
from revcycle.x12.reader import X12Reader
from revcycle.x12.remittance import read_remittances

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def day_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("day")
    manifest = generate_day(out, DAY, 400, 11)
    return out, manifest


def test_manifest_totals_equal_what_the_files_hold(day_dir):
    out, manifest = day_dir
    era = [f for f in manifest["files"] if f["type"] == "835"]
    assert len(era) == 4
    total_bpr = Decimal("0")
    for f in era:
        path = out / f["path"]
        assert sha256_file(path) == f["sha256"]
        rsets = []
        for reader, rset in read_remittances(path):  # noqa: B007 - the reader is read after the loop
            rsets.append(rset)
            assert all(is_balanced(rset).values())
        assert len(reader.interchanges) == len(f["interchanges"])
        assert [r.transaction_control for r in rsets] == [t["st02"] for t in f["transactions"]]
        for r, t in zip(rsets, f["transactions"], strict=True):
            assert r.remittance["claim_count"] == t["claims"]
            assert r.remittance["payment_amount"] == Decimal(t["bpr02"])
            assert r.remittance["sum_claim_paid_amount"] == Decimal(t["sum_clp04"])
            assert r.remittance["sum_provider_adjustment_amount"] == Decimal(t["sum_plb"])
            assert r.remittance["trace_number"] == t["trace"]
        total_bpr += sum((r.remittance["payment_amount"] for r in rsets), Decimal("0"))
    assert total_bpr == Decimal(manifest["totals"]["bpr02"])
    bank = next(f for f in manifest["files"] if f["type"] == "bank")
    with open(out / bank["path"], newline="") as fh:
        deposits = list(csv.DictReader(fh))
    # Seeded cash breaks: one payment never deposited, one deposited 25.00 short, one split over two lines.
    amounts = {
        f"{t['payer_id']}|{t['trace']}": Decimal(t["bpr02"])
        for f in manifest["files"]
        if f["type"] == "835"
        for t in f["transactions"]
    }
    cash = {
        b["category"]: b["reference"] for b in manifest["breaks"] if b["category"].startswith(("payment", "deposit"))
    }
    assert set(cash) == {"payment_without_deposit", "deposit_amount_difference"}
    expected = total_bpr - amounts[cash["payment_without_deposit"]] - Decimal("25.00")
    assert sum(Decimal(d["amount"]) for d in deposits) == expected == Decimal(manifest["totals"]["deposits"])
    refs = [f"{d['originator_id']}|{d['trace_number']}" for d in deposits]
    assert cash["payment_without_deposit"] not in refs and any(refs.count(r) == 2 for r in refs)


def test_day_exercises_what_real_files_carry(day_dir):
    out, manifest = day_dir
    claims, adjustments, plb, delimiters, multi_isa = [], [], [], set(), False
    for f in (f for f in manifest["files"] if f["type"] == "835"):
        for reader, rset in read_remittances(out / f["path"]):  # noqa: B007 - read after the loop
            claims += rset.claim_payments
            adjustments += rset.adjustments
            plb += rset.provider_adjustments
        delimiters |= {(i.delimiters.element, i.delimiters.component) for i in reader.interchanges}
        multi_isa |= len(reader.interchanges) > 1
    assert multi_isa
    assert {("|", "^"), ("^", "<")} <= delimiters
    assert {(a["level"], a["group_code"]) for a in adjustments} >= {
        ("service_line", "CO"),
        ("service_line", "PR"),
        ("service_line", "PI"),
        ("claim", "OA"),
    }
    statuses = {c["claim_status_code"] for c in claims}
    assert {"1", "2", "4", "22"} <= statuses
    reversed_pcns = {c["patient_control_number"] for c in claims if c["claim_status_code"] == "22"}
    assert reversed_pcns and all(
        any(c["patient_control_number"] == p and c["claim_status_code"] == "1" for c in claims) for p in reversed_pcns
    )
    assert any(p["amount"] < 0 and p["reason_code"] == "L6" for p in plb)
    assert any(p["amount"] > 0 and p["reason_code"] == "WO" for p in plb)


def test_other_files_of_the_day(day_dir):
    out, manifest = day_dir
    types = {f["type"] for f in manifest["files"]}
    assert types == {"835", "277", "hl7", "usage_csv", "invoice_csv", "bank", "open_ar"}
    for f in (f for f in manifest["files"] if f["type"] == "277"):
        segs = list(X12Reader(open(out / f["path"], "rb")))
        assert sum(1 for s in segs if s[0] == "STC") == f["stc"]
    hl7 = next(f for f in manifest["files"] if f["type"] == "hl7")
    text = (out / hl7["path"]).read_bytes().decode()
    assert text.count("MSH|^~\\&|") == hl7["messages"] and text.count("\rFT1|") == hl7["ft1"]
    invoices = next(f for f in manifest["files"] if f["type"] == "invoice_csv")
    assert {b["kind"] for b in invoices["breaks"]} == {"price_mismatch", "invoice_without_usage"}


def test_same_seed_same_bytes(tmp_path):
    a = generate_day(tmp_path / "a", DAY, 60, 5)
    b = generate_day(tmp_path / "b", DAY, 60, 5)
    c = generate_day(tmp_path / "c", DAY, 60, 6)
    assert [f["sha256"] for f in a["files"]] == [f["sha256"] for f in b["files"]]
    assert [f["sha256"] for f in a["files"]] != [f["sha256"] for f in c["files"]]


def test_only_synthetic_identities(day_dir):
    out, manifest = day_dir
    for f in manifest["files"]:
        text = (out / f["path"]).read_text()
        for seg in text.replace("\r", "~").split("~"):
            if seg.startswith(("NM1*QC*", "NM1|QC|", "NM1^QC^", "NM1*IL*", "NM1|IL|", "NM1^IL^", "PID|")):
                assert "SYNTH" in seg


def test_generated_835_validates_clean_with_pyx12(tmp_path):
    import pyx12.params
    import pyx12.x12n_document

    manifest = generate_day(tmp_path, DAY, 40, 3)
    for f in (f for f in manifest["files"] if f["type"] == "835"):
        errors = io.StringIO()
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), str(tmp_path / f["path"]), None, None, None, errors
        )
        assert ok, f["path"]
        assert json.loads(errors.getvalue())["interchanges"]  # the error document was written ...
        assert error_counts(errors.getvalue()) == {}  # ... and lists no error at all


def test_the_days_files_are_the_owners_and_groups_only(day_dir):
    """They name (synthetic) patients like real drops do: no read for other users, whatever the umask."""
    out, manifest = day_dir
    written = [out / f["path"] for f in manifest["files"]]
    folders = {p.parent for p in written}
    assert written and all(p.stat().st_mode & 0o007 == 0 for p in [*written, *folders]), [
        (str(p), oct(p.stat().st_mode)) for p in [*written, *folders] if p.stat().st_mode & 0o007
    ]
