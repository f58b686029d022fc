"""One payment posts once, whole, whatever runs at the same moment (issue 13, money and exactly-once).

Two files carry the same payment (same payer, trace and payment date); the second adds one claim, as a
payer's corrected re-send would.  Concurrency is real: two threads, each on its own database connection,
released together by a barrier, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from revcycle.adapters import erp, ledger
from revcycle.domain.canonical import to_table
from revcycle.errors import PostingError
from revcycle.pipeline import steps
from revcycle.settings import get_settings
from revcycle.sources.remittance import DATASETS, REMITTANCE, post_835, verify_835_posted
from revcycle.x12.remittance import read_remittances
from tests.conftest import FIXTURES
from tests.pipeline_helpers import erp_snapshot, receipts_and_journals, run_source

DAY = dt.date(2026, 11, 24)
ORIGINAL = (FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835").read_bytes()


def resent_with_extra_claim(original: bytes = ORIGINAL) -> bytes:
    """The same payment (TRN02 TRC0001, BPR16 20261120) in a new interchange with one more claim:
    CLP 100 charged, CO-45 90, 10 paid; BPR02 348.50 + 10 = 358.50, SE01 29 + 2."""
    return (
        original.replace(b"000000101", b"000000201")
        .replace(b"BPR*I*348.50*", b"BPR*I*358.50*")
        .replace(b"PLB*", b"CLP*PCN0003*1*100*10**12*ICN0003*13*1~\nCAS*CO*45*90~\nPLB*", 1)
        .replace(b"SE*29*0001", b"SE*31*0001")
    )


def _posting_rows(path: Path, sha256: str) -> tuple[dict, dict]:
    """What the post step would load for a file: ERP rows and the file's control totals."""
    tables: dict[str, list] = {name: [] for name in DATASETS}
    lineage = {
        "data_source": "remittance",
        "file_name": sha256,
        "ingest_datetime": dt.datetime(2026, 11, 24),
        "business_date": DAY,
    }
    bpr02 = Decimal(0)
    for _, rset in read_remittances(path):
        bpr02 += rset.remittance["payment_amount"]
        for name, rows in rset.records().items():
            tables[name].extend(rows)
    arrow = {name: to_table(name, rows, lineage) for name, rows in tables.items()}
    return post_835(arrow, DAY, sha256), {"bpr02": str(bpr02)}


def _race(*jobs):
    """Run each job in its own thread, all released at once; return (result or exception) per job."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each side raised
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_two_posters_of_one_payment_at_once_post_it_once_and_balanced(backend, tmp_path, attempt):
    a, b = tmp_path / "a.835", tmp_path / "b.835"
    a.write_bytes(ORIGINAL)
    b.write_bytes(resent_with_extra_claim())
    jobs = []
    for path, sha in ((a, "a" * 64), (b, "b" * 64)):
        rows, totals = _posting_rows(path, sha)
        owned = erp.Ownership("cash_receipt", "receipt_key", sha, "DUPLICATE_REMITTANCE")
        jobs.append(
            lambda rows=rows, owned=owned, sha=sha, totals=totals: erp.load(
                rows, owned=owned, verify=lambda conn: verify_835_posted(sha, totals, conn)
            )
        )
    erp.load({})  # the schema exists before the race, as it does in a running deployment
    results = _race(*jobs)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], PostingError) and errors[0].reason == "DUPLICATE_REMITTANCE"
    winner = "b" * 64 if isinstance(results[0], Exception) else "a" * 64
    posted = receipts_and_journals()
    assert len(posted) == 1
    ((trace, amount, debits, credits),) = posted
    assert trace == "TRC0001" and debits == credits
    assert amount == (Decimal("358.50") if winner == "b" * 64 else Decimal("348.50"))
    with erp_engine().connect() as conn:
        owners = {r[0] for r in conn.execute(text("select source_sha256 from erp.cash_receipt"))}
        claims = conn.execute(text("select count(*) from erp.receipt_application where level = 'claim'")).scalar()
    assert owners == {winner}
    assert claims == (3 if winner == "b" * 64 else 2)  # no claim of the loser joined the winner's receipt


def erp_engine():
    from revcycle.adapters.db import engine_for

    return engine_for("erp")


def test_a_posting_that_does_not_tie_out_leaves_nothing(backend, tmp_path):
    path = tmp_path / "a.835"
    path.write_bytes(ORIGINAL)
    rows, totals = _posting_rows(path, "a" * 64)
    wrong = {"bpr02": "348.49"}
    with pytest.raises(PostingError) as info:
        erp.load(rows, verify=lambda conn: verify_835_posted("a" * 64, wrong, conn))
    assert info.value.reason == "POSTED_TOTAL_MISMATCH"
    assert receipts_and_journals() == []
    erp.load(rows, verify=lambda conn: verify_835_posted("a" * 64, totals, conn))
    assert [(t, a) for t, a, _, _ in receipts_and_journals()] == [("TRC0001", Decimal("348.50"))]


def _land_both(inbound: Path) -> None:
    inbound.mkdir(parents=True, exist_ok=True)
    (inbound / "a.835").write_bytes(ORIGINAL)
    (inbound / "b.835").write_bytes(resent_with_extra_claim())


def _lake_shas() -> set[str]:
    return {p.stem for p in get_settings().lake.rglob("*.parquet") if "_staging" not in p.parts}


def test_a_resent_payment_is_refused_before_publish_and_on_every_release(backend):
    s = get_settings()
    _land_both(s.inbound / "remittance")
    rows = run_source("remittance", DAY)
    assert (rows["a.835"]["state"], rows["b.835"]["state"]) == ("posted", "quarantined")
    assert rows["b.835"]["reason"] == "DUPLICATE_REMITTANCE"
    dup = rows["b.835"]["sha256"]
    assert _lake_shas() == {rows["a.835"]["sha256"]}  # the duplicate never reached the lake
    before, lake_before = erp_snapshot(), sorted(p for p in s.lake.rglob("*.parquet"))
    for attempt in range(2):
        assert ledger.release(dup)
        again = run_source("remittance", DAY, f"release-{attempt}")
        assert (again["b.835"]["state"], again["b.835"]["reason"]) == ("quarantined", "DUPLICATE_REMITTANCE")
        assert _lake_shas() == {rows["a.835"]["sha256"]}
        assert sorted(p for p in s.lake.rglob("*.parquet")) == lake_before
        assert erp_snapshot() == before


def test_two_workers_parsing_one_payment_at_once_publish_it_once(backend):
    s = get_settings()
    _land_both(s.inbound / "remittance")
    files = steps.land("remittance", DAY, "race")["files"]
    assert len(files) == 2
    results = _race(*(lambda sha=sha: steps.parse("remittance", sha, "race") for sha in files))
    assert sorted(r["state"] for r in results) == ["parsed", "quarantined"], results
    assert [r["reason"] for r in results if r["state"] == "quarantined"] == ["DUPLICATE_REMITTANCE"]
    for sha in files:
        steps.process_file("remittance", sha, "race")
    assert len(_lake_shas()) == 1 and len(receipts_and_journals()) == 1


def test_two_workers_claiming_one_interchange_at_once_keep_one(backend):
    results = _race(
        *(
            lambda sha=sha: ledger.claim_interchanges(sha, "SENDER", ["000000101", "000000102"])
            for sha in ("a" * 64, "b" * 64)
        )
    )
    assert sorted(r is None for r in results) == [False, True], results  # one owns both, the other is told


def test_an_erp_refusal_at_post_quarantines_once_and_empties_the_lake(backend, monkeypatch):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "remittance" / "a.835").write_bytes(ORIGINAL)

    def refused_rows(tables, business_date, sha256):
        rows = post_835(tables, business_date, sha256)
        rows["cash_receipt"][0]["payer_id"] = None  # NOT NULL: the database refuses, on both engines
        return rows

    monkeypatch.setattr("revcycle.pipeline.steps.get_source", lambda name: _with_post(REMITTANCE, refused_rows))
    rows = run_source("remittance", DAY)
    row = rows["a.835"]
    assert (row["state"], row["reason"]) == ("quarantined", "ERP_REJECTED")
    assert "IntegrityError" in row["detail"] or "NotNullViolation" in row["detail"]
    assert _lake_shas() == set() and json.loads(ledger.get(row["sha256"])["outputs"]) == []
    assert receipts_and_journals() == []
    # Nothing loops: the next run leaves it where it is.
    assert run_source("remittance", DAY, "next")["a.835"]["state"] == "quarantined"


def _with_post(source, post):
    from dataclasses import replace

    return replace(source, post=post)


def test_sqlite_keeps_money_exact_in_sql_sums(rc_home, tmp_path):
    from revcycle.adapters.db import engine_for

    amounts = ["0.10", "0.20", "883.51", "123456789012.34"]
    erp.load(
        {
            "cash_receipt": [
                {
                    "receipt_key": f"k{i}",
                    "payer_id": "P",
                    "payer_name": None,
                    "trace_number": f"T{i}",
                    "payment_date": DAY,
                    "amount": Decimal(a),
                    "payment_method": "ACH",
                    "handling_code": "I",
                    "credit_debit_flag": "C",
                    "source_sha256": "s" * 64,
                    "transaction_control": "0001",
                    "business_date": DAY,
                }
                for i, a in enumerate(amounts)
            ]
        }
    )
    with engine_for("erp").connect() as conn:
        total = conn.execute(text("select sum(amount) from erp.cash_receipt")).scalar()
        kinds = {r[0] for r in conn.execute(text("select typeof(amount) from erp.cash_receipt"))}
    assert str(total) == "123456789896.15"  # exact; floats would print ...896.1499
    assert kinds == {"text"}  # stored as exact decimal text, not REAL
    import sqlite3

    raw = sqlite3.connect(get_settings().home / "erp.sqlite")
    assert sorted(r[0] for r in raw.execute("select amount from cash_receipt")) == sorted(amounts)


# -- poison files never stall a run (issue 13, item 5) ------------------------------------------------------
def test_an_unexpected_exception_quarantines_only_its_file_without_its_message(rc_home, monkeypatch):
    import revcycle.sources.remittance as remittance_source

    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "remittance" / "a-good.835").write_bytes(ORIGINAL)
    (s.inbound / "remittance" / "b-poison.835").write_bytes(
        ORIGINAL.replace(b"TRC0001", b"TRC0666").replace(b"000000101", b"000000666")
    )
    real, real_parts = remittance_source.map_remittances, remittance_source.remittance_parts

    def poisoned(reader):
        for rset in real(reader):
            if rset.remittance["trace_number"] == "TRC0666":
                raise KeyError("SYNTHOAK AVERY ZZ000000001")  # a message that quotes values
            yield rset

    def poisoned_parts(path, max_bytes):
        found = real_parts(path, max_bytes)
        if found is None:
            return None
        envelope, parts = found

        def runs():
            for mapped in parts:
                if any(r.remittance["trace_number"] == "TRC0666" for r in mapped.sets):
                    raise KeyError("SYNTHOAK AVERY ZZ000000001")
                yield mapped

        return envelope, runs()

    # Both 835 paths (the columnar one, and the set-by-set one it falls back to) crash on the poison file.
    monkeypatch.setattr(remittance_source, "map_remittances", poisoned)
    monkeypatch.setattr(remittance_source, "remittance_parts", poisoned_parts)
    rows = run_source("remittance", DAY)
    assert rows["a-good.835"]["state"] == "posted"
    bad = ledger.get(rows["b-poison.835"]["sha256"])
    assert (bad["state"], bad["reason"]) == ("quarantined", "PARSER_ERROR")
    assert "KeyError" in bad["detail"] and "SYNTHOAK" not in bad["detail"] and "ZZ0000" not in bad["detail"]


def test_a_validator_crash_quarantines_the_file_as_validation_error(rc_home, monkeypatch):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "remittance" / "a.835").write_bytes(ORIGINAL)

    def broken(frames, business_date):
        raise ValueError("cannot compare SYNTHOAK")

    monkeypatch.setattr("revcycle.adapters.validation.validate_frames", broken)
    row = run_source("remittance", DAY)["a.835"]
    assert (row["state"], row["reason"]) == ("quarantined", "VALIDATION_ERROR")
    assert "SYNTHOAK" not in ledger.get(row["sha256"])["detail"]


def test_one_hl7_message_that_breaks_the_mapper_costs_only_that_message(rc_home, monkeypatch):
    import revcycle.sources.supply_usage as supply
    from tests.corpus import HL7

    s = get_settings()
    (s.inbound / "supply").mkdir(parents=True)
    good = dict((name, text) for name, text, _, _ in HL7)["good"]
    (s.inbound / "supply" / "batch.hl7").write_text(good)
    real = supply.map_dft

    def breaks_on_second(msg):
        if msg.seq == 2:
            raise ZeroDivisionError("SYNTHCEDAR")
        return real(msg)

    monkeypatch.setattr(supply, "map_dft", breaks_on_second)
    row = run_source("supply_usage", DAY)["batch.hl7"]
    totals = json.loads(ledger.get(row["sha256"])["control_totals"])
    assert row["state"] == "posted" and totals["acks"] == {"AA": 1, "AE": 1}
    assert [r["reason"] for r in totals["rejected"]] == ["PARSER_ERROR"]
    acks = (s.outbound / "acks" / "2026-11-24").glob("*.ack.hl7")
    assert any("MSA|AE|SUP261124000002" in p.read_text() for p in acks)
