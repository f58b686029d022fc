"""The remittance source through the shared steps on the embedded default (SQLite, local folders)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from revcycle.adapters import ledger
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.conftest import FIXTURES, sample_files
from tests.pipeline_helpers import erp_snapshot, receipts_and_journals, run_source

DAY = dt.date(2026, 11, 24)
FIX = FIXTURES / "x12" / "835"


def test_synthetic_day_posts_to_the_cent_and_replays_change_nothing(backend):
    from revcycle.adapters.db import engine_for

    assert engine_for("erp").dialect.name == backend
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 300, 21)
    rows = run_source("remittance", DAY)
    assert {r["state"] for r in rows.values()} == {"posted"}
    expected = {
        t["trace"]: Decimal(t["bpr02"]) for f in manifest["files"] if f["type"] == "835" for t in f["transactions"]
    }
    posted = receipts_and_journals()
    assert {t: a for t, a, _, _ in posted} == expected  # every receipt equals its BPR02
    assert all(d == c for _, _, d, c in posted)  # every journal balances
    before = erp_snapshot()
    lake_files = sorted(p for p in s.lake.rglob("*.parquet"))
    lake_bytes = {p: p.read_bytes() for p in lake_files}

    # Replay the day: the same files re-landed (nothing new), then every posted file re-processed.
    again = run_source("remittance", DAY, "replay-1")
    assert {r["state"] for r in again.values()} == {"posted"}
    assert ledger.requeue_posted(DAY) == len(rows)
    run_source("remittance", DAY, "replay-2")
    assert erp_snapshot() == before
    assert sorted(p for p in s.lake.rglob("*.parquet")) == lake_files
    assert {p: p.read_bytes() for p in lake_files} == lake_bytes


def test_lake_datasets_are_typed_and_partitioned(rc_home):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    shutil.copy(FIX / "paid-claims-four-cas-groups.835", s.inbound / "remittance")
    run_source("remittance", DAY)
    claims = list(s.lake.glob("canonical__claim_payment/business_date=2026-11-24/payer_id=1999999999/*.parquet"))
    assert len(claims) == 1
    table = pq.read_table(claims[0])
    assert str(table.schema.field("paid_amount").type) == "decimal128(18, 2)"
    assert sum(table.column("paid_amount").to_pylist()) == Decimal("370")
    assert set(table.column("data_source").to_pylist()) == {"remittance"}
    assert not list(s.lake.glob("_staging/*"))


MALFORMED = {
    "empty.835": lambda good: b"",
    "truncated.835": lambda good: good[: good.index(b"CLP*PCN0002")],
    "bad-isa.835": lambda good: good.replace(b"ISA*00*", b"ISA*0*", 1),
    "wrong-se01.835": lambda good: good.replace(b"SE*29*0001", b"SE*31*0001"),
    "delimiter-collision.835": lambda good: good.replace(b"*P*:~", b"*P*~~", 1),
    "not-utf8.835": lambda good: good.replace(b"SYNTHELM", b"SYNTH\xffLM"),
    "duplicate-interchange.835": lambda good: good.replace(b"TRC0001", b"TRC0009"),
}
REASONS = {
    "empty.835": "EMPTY_FILE",
    "truncated.835": "TRUNCATED",
    "bad-isa.835": "ISA_SYNTAX",
    "wrong-se01.835": "SE_COUNT_MISMATCH",
    "delimiter-collision.835": "DELIMITER_COLLISION",
    "not-utf8.835": "NOT_UTF8",
    "duplicate-interchange.835": "DUPLICATE_INTERCHANGE",
}


def test_each_malformed_input_gets_its_reason_and_the_rest_of_the_run_goes_on(backend):
    s = get_settings()
    inbound = s.inbound / "remittance"
    inbound.mkdir(parents=True)
    good = (FIX / "paid-claims-four-cas-groups.835").read_bytes()
    (inbound / "a-good.835").write_bytes(good)
    (inbound / "b-good.835").write_bytes((FIX / "reversal-and-correction.835").read_bytes())
    for name, mutate in MALFORMED.items():
        (inbound / f"z-{name}").write_bytes(mutate(good))
    rows = run_source("remittance", DAY)
    assert rows["a-good.835"]["state"] == rows["b-good.835"]["state"] == "posted"
    for name, reason in REASONS.items():
        row = rows[f"z-{name}"]
        assert (row["state"], row["reason"]) == ("quarantined", reason), name
        assert (s.quarantine / "2026-11-24" / row["sha256"]).exists()
        assert (
            json.loads((s.quarantine / "2026-11-24" / f"{row['sha256']}.reason.json").read_text())["reason"] == reason
        )
    # A rejected set or envelope still gets its acknowledgement.
    assert rows["z-wrong-se01.835"]["ack_path"].endswith(".999")
    assert rows["z-bad-isa.835"]["ack_path"] is None
    assert len(receipts_and_journals()) == 2


def test_release_reprocesses_exactly_once(backend):
    s = get_settings()
    inbound = s.inbound / "remittance"
    inbound.mkdir(parents=True)
    shutil.copy(FIX / "paid-claims-four-cas-groups.835", inbound / "first.835")
    run_source("remittance", DAY)
    # A re-send with the same interchange number but different bytes: a conflict to review.
    resend = (FIX / "paid-claims-four-cas-groups.835").read_bytes().replace(b"TRC0001", b"TRC0077")
    (inbound / "resend.835").write_bytes(resend)
    rows = run_source("remittance", DAY)
    assert rows["resend.835"]["reason"] == "DUPLICATE_INTERCHANGE"
    assert len(receipts_and_journals()) == 1
    assert ledger.release(rows["resend.835"]["sha256"])
    rows = run_source("remittance", DAY, "after-release")
    assert rows["resend.835"]["state"] == "posted" and rows["resend.835"]["release_count"] == 1
    assert sorted(t for t, *_ in receipts_and_journals()) == ["TRC0001", "TRC0077"]
    before = erp_snapshot()
    run_source("remittance", DAY, "once-more")
    assert erp_snapshot() == before


def test_validation_report_has_every_expectation_and_no_values(rc_home):
    s = get_settings()
    inbound = s.inbound / "remittance"
    inbound.mkdir(parents=True)
    shutil.copy(FIX / "unbalanced-transaction.835", inbound / "u.835")
    rows = run_source("remittance", DAY)
    row = rows["u.835"]
    assert row["reason"] == "UNBALANCED_TRANSACTION"
    report = json.loads(open(row["report_path"]).read())
    from revcycle.settings import EXPECTATIONS_DIR
    from revcycle.sources.remittance import CHECKS, DATASETS

    expected = sum(
        len(json.loads((EXPECTATIONS_DIR / f"{n}.json").read_text())["expectations"]) for n in CHECKS + DATASETS
    )
    assert len(report["expectations"]) == expected
    assert {e["severity"] for e in report["expectations"]} == {"critical", "warning"}
    assert report["decision"]["quarantined"] and report["decision"]["reason"] == "UNBALANCED_TRANSACTION"
    html = open(row["report_path"].replace(".json", ".html")).read()
    for value in ("PCN0008", "ICN0008", "SYNTHELM", "HARPER", "ZZ000000008"):
        assert value not in html and value not in json.dumps(report)


# --- the real samples, each in a fresh ledger: parsed and posted, or quarantined with its reason ----------
SAMPLE_OUTCOMES = {
    "lfh-x12__medicare-part-a.835": ("posted", None),
    "badx12__X221-dollars-and-data-sent-together.edi": ("posted", None),
    "badx12__X221-multiple-claims-single-check.edi": ("posted", None),
    "edi835parser__emedny_sample.txt": ("posted", None),
    "tastypackets__profee.edi": ("posted", None),
    "edi835parser__united_healthcare_legacy_sample.txt": ("posted", None),
    "pyx12__835_mult_loops.txt": ("posted", None),
    "lfh-x12__managed-care.835": ("quarantined", "INVALID_PAYMENT_DATE"),  # BPR16 20002316
    # SVC01 with '>' although ISA16 is ':' (these two also lack BPR16), and an SVC01 that is no composite.
    "lfh-x12__secondary-payment.835": ("quarantined", "BAD_PROCEDURE_COMPOSITE"),
    "lfh-x12__cob-contractural-adjustment.835": ("quarantined", "BAD_PROCEDURE_COMPOSITE"),
    "lfh-x12__tertiary-payment.835": ("quarantined", "BAD_PROCEDURE_COMPOSITE"),
    "tigershark__835-example-2.txt": ("quarantined", "SE_COUNT_MISMATCH"),
    "oopfactory__ExampleFromNth.txt": ("quarantined", "UNBALANCED_TRANSACTION"),  # masked amounts
    "oopfactory__835_DeIdent_01.dat": ("quarantined", "UNSUPPORTED_VERSION"),  # GS08 masked: 999999X999X9
}


@pytest.mark.samples
@pytest.mark.parametrize("path", sample_files("x12/835"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_each_sample_835_outcome(rc_home, path):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    shutil.copy(path, s.inbound / "remittance" / path.name)
    rows = run_source("remittance", DAY)
    row = rows[path.name]
    assert (row["state"], row["reason"]) == SAMPLE_OUTCOMES[path.name]
    if row["state"] == "posted":
        totals = json.loads(row["control_totals"])
        posted = receipts_and_journals()
        assert sum(a for _, a, _, _ in posted) == Decimal(totals["bpr02"])
        assert all(d == c for _, _, d, c in posted)


def test_resent_remittance_in_a_new_envelope_is_not_posted_twice(rc_home):
    s = get_settings()
    inbound = s.inbound / "remittance"
    inbound.mkdir(parents=True)
    original = (FIX / "paid-claims-four-cas-groups.835").read_bytes()
    (inbound / "a.835").write_bytes(original)
    # Same payer, trace and payment date; new interchange control number (a payer's re-send).
    (inbound / "b.835").write_bytes(original.replace(b"000000101", b"000000201"))
    rows = run_source("remittance", DAY)
    states = sorted((r["state"], r["reason"]) for r in rows.values())
    assert states == [("posted", None), ("quarantined", "DUPLICATE_REMITTANCE")]
    assert len(receipts_and_journals()) == 1


@pytest.mark.samples
def test_same_remittance_from_two_sample_files_posts_once(rc_home):
    from tests.conftest import samples_dir

    src = samples_dir("x12/835")
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    for name in ("lfh-x12__medicare-part-a.835", "badx12__X221-dollars-and-data-sent-together.edi"):
        shutil.copy(src / name, s.inbound / "remittance" / name)
    rows = run_source("remittance", DAY)
    states = sorted((r["state"], r["reason"]) for r in rows.values())
    assert states == [("posted", None), ("quarantined", "DUPLICATE_REMITTANCE")]
    assert [a for _, a, _, _ in receipts_and_journals()] == [Decimal("150000.00")]
