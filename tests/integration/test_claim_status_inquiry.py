"""Outbound 276 inquiries end to end through the shared steps (no Airflow): choose, write, upload, match 999s."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for, sql
from revcycle.jobs import inquiries
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from revcycle.synthetic.payer import REJECTING, answer_inquiries
from revcycle.x12.inquiry import read_inquiries
from tests.pipeline_helpers import erp_snapshot, run_source

DAY = dt.date(2026, 11, 24)
INQUIRY_TABLES = ("erp.ar_open_item", "erp.claim_inquiry", "erp.claim_inquiry_ack")


def asked() -> dict[str, list[str]]:
    with engine_for("erp").connect() as conn:
        rows = conn.execute(text("select payer_id, patient_control_number from erp.claim_inquiry")).all()
    out: dict[str, list[str]] = {}
    for payer, pcn in rows:
        out.setdefault(payer, []).append(pcn)
    return {k: sorted(v) for k, v in out.items()}


def run_inbound(day: dt.date, run_id: str = "run") -> None:
    for source in ("open_items", "remittance", "claim_status"):
        rows = run_source(source, day, run_id)
        assert {r["state"] for r in rows.values()} <= {"posted"}, {k: r["reason"] for k, r in rows.items()}


def send(day: dt.date, run_id: str = "run") -> list[dict]:
    return [inquiries.upload(f["file_key"], run_id) for f in inquiries.build(day, run_id) if f["file_key"]]


def test_synthetic_day_inquires_exactly_the_stale_claims_and_matches_the_999s(backend):
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 300, 13)
    expected = next(f for f in manifest["files"] if f["type"] == "open_ar")["expected_inquiries"]
    run_inbound(DAY)
    sent = send(DAY)
    assert {f["state"] for f in sent} == {"uploaded"}
    assert asked() == {k: v for k, v in expected.items() if v}

    # Each uploaded 276 parses back to the claims recorded for it, set by set.
    with engine_for("erp").connect() as conn:
        recorded = {
            (r[0], r[1], r[2])
            for r in conn.execute(
                text("select payer_id, transaction_control_number, patient_control_number from erp.claim_inquiry")
            )
        }
    parsed = set()
    for f in sent:
        path = s.exchange / f["payer_id"] / "outbound" / f["file_name"]
        for iset in read_inquiries(path):
            parsed |= {(f["payer_id"], iset.transaction_control, c["patient_control_number"]) for c in iset.claims}
    assert parsed == recorded
    # 276s carry names, member ids and birth dates: owner and group only, in the raw zone and the exchange.
    written = [p for p in (s.raw_zone / "outbound").rglob("*")] + [p for p in s.exchange.rglob("*")]
    assert written and all(p.stat().st_mode & 0o007 == 0 for p in written), [
        (p, oct(p.stat().st_mode)) for p in written if p.stat().st_mode & 0o007
    ]

    # The payers answer; every inquiry gets the answer of its own set.
    answer_inquiries(s.exchange, s.inbound / "acks", DAY)
    acks = run_source("payer_acks", DAY)
    assert {r["state"] for r in acks.values()} == {"posted"} and len(acks) == len(sent)
    assert not list((s.outbound / "acks").rglob("*999_*"))  # a 999 is never answered
    with engine_for("erp").connect() as conn:
        answers = conn.execute(text(sql("erp/inquiry_status")), {"business_date": DAY}).mappings().all()
    assert {(a["payer_id"], a["ack_status"]) for a in answers} == {
        (p, "R" if p in REJECTING else "A") for p, v in expected.items() if v
    }
    status = inquiries.status(DAY)
    rejected = sum(len(v) for p, v in expected.items() if p in REJECTING)
    assert status == {
        "inquiries": sum(map(len, expected.values())),
        "accepted": status["inquiries"] - rejected,
        "rejected": rejected,
        "awaiting_ack": 0,
    }

    # No PHI left the raw zone: the lake and the ERP hold tokens only.
    names = {
        line.split(",")[8] for line in (s.inbound / "billing" / "open_ar_20261124.csv").read_text().splitlines()[1:]
    }
    lake_text = "".join(json.dumps(pq.read_table(p).to_pylist(), default=str) for p in s.lake.rglob("*.parquet"))
    erp_text = repr(erp_snapshot(INQUIRY_TABLES)) + repr(asked())
    with engine_for("erp").connect() as conn:
        erp_text += repr(conn.execute(text("select * from erp.ar_open_item")).all())
    assert names and not any(n in lake_text or n in erp_text for n in names)

    # Replay: same files (not rebuilt, not re-sent), no ERP change, the 999s not posted twice.
    before = erp_snapshot(INQUIRY_TABLES)
    files_before = {p: p.read_bytes() for p in s.exchange.rglob("*.x12")}
    ledger.requeue_posted(DAY)
    run_inbound(DAY, "replay")
    again = send(DAY, "replay")
    assert [f["file_key"] for f in again] == [f["file_key"] for f in sent]
    run_source("payer_acks", DAY, "replay")
    assert erp_snapshot(INQUIRY_TABLES) == before
    assert {p: p.read_bytes() for p in s.exchange.rglob("*.x12")} == files_before


def test_next_day_does_not_ask_again_and_a_paid_claim_drops_out(rc_home):
    s = get_settings()
    generate_day(s.inbound, DAY, 200, 5)
    run_inbound(DAY)
    send(DAY)
    first = asked()
    # Next day: the same snapshot is re-sent as the new day's file; claims asked yesterday wait 7 days.
    nxt = DAY + dt.timedelta(days=1)
    snapshot = (s.inbound / "billing" / "open_ar_20261124.csv").read_text()
    (s.inbound / "billing" / "open_ar_20261125.csv").write_text(snapshot.replace("\n", "\r\n"))
    run_source("open_items", nxt)
    assert inquiries.build(nxt) == []
    # Eight days on, the ones still open are asked again - except a claim whose 835 arrived meanwhile.
    later = DAY + dt.timedelta(days=8)
    (s.inbound / "billing" / "open_ar_20261202.csv").write_text(snapshot)
    payer, pcns = next((p, v) for p, v in sorted(first.items()))
    paid_pcn = pcns[0]
    _post_payment(payer, paid_pcn, later)
    run_source("open_items", later)
    send(later)
    with engine_for("erp").connect() as conn:
        again = {
            r[0]
            for r in conn.execute(
                text("select patient_control_number from erp.claim_inquiry where business_date = :d"), {"d": later}
            )
        }
    # Young claims of the snapshot that have now waited 21 days join them.
    rows = [line.split(",") for line in snapshot.splitlines()[1:]]
    now_due = {r[0] for r in rows if r[0].startswith("NEW") and dt.date.fromisoformat(r[6]) <= later - dt.timedelta(21)}
    assert paid_pcn not in again
    assert again == ({p for v in first.values() for p in v} | now_due) - {paid_pcn}


def _post_payment(payer: str, pcn: str, day: dt.date) -> None:
    from revcycle.adapters import erp
    from revcycle.domain.keys import business_key

    receipt = business_key("test-receipt", payer, pcn)
    erp.load(
        {
            "cash_receipt": [
                {
                    "receipt_key": receipt,
                    "payer_id": payer,
                    "payer_name": "P",
                    "trace_number": "T1",
                    "payment_date": day,
                    "amount": 10,
                    "payment_method": "ACH",
                    "handling_code": "I",
                    "credit_debit_flag": "C",
                    "source_sha256": "0" * 64,
                    "transaction_control": "0001",
                    "business_date": day,
                }
            ],
            "receipt_application": [
                {
                    "application_key": business_key("test-app", pcn),
                    "receipt_key": receipt,
                    "level": "claim",
                    "claim_payment_key": business_key("test-cp", pcn),
                    "service_line_key": None,
                    "patient_control_number": pcn,
                    "payer_claim_control_number": None,
                    "claim_status_code": "1",
                    "is_reversal": False,
                    "charge_amount": 10,
                    "applied_amount": 10,
                    "patient_responsibility_amount": 0,
                    "business_date": day,
                }
            ],
        }
    )


def test_upload_goes_to_the_payers_sftp_with_a_pinned_key(rc_home, tmp_path, monkeypatch):
    from tests.conftest import reset_caches
    from tests.sftp_server import InProcessSftp

    s = get_settings()
    generate_day(s.inbound, DAY, 100, 3)
    run_inbound(DAY)
    root = tmp_path / "payer-sftp"
    (root / "outbound" / "276").mkdir(parents=True)
    config = (
        get_settings()
        .trading_partners_file.read_text()
        .replace('remote_dir = "/outbound/276"', 'conn_id = "acme_sftp"\nremote_dir = "/outbound/276"', 1)
    )
    partners = tmp_path / "partners.toml"
    partners.write_text(config)
    with InProcessSftp(root) as server:
        monkeypatch.setenv("AIRFLOW_CONN_ACME_SFTP", server.airflow_connection(tmp_path, "hospital"))
        monkeypatch.setenv("REVCYCLE_TRADING_PARTNERS", str(partners))
        reset_caches()
        sent = send(DAY)
    acme = next(f for f in sent if f["payer_id"] == "1123456789")
    remote = root / "outbound" / "276" / acme["file_name"]
    assert remote.exists() and not list(remote.parent.glob(".*part"))
    assert [c["patient_control_number"] for st in read_inquiries(remote) for c in st.claims]
    with engine_for("ops").connect() as conn:
        target = conn.execute(
            text("select target from ops.outbound_file where file_key = :k"), {"k": acme["file_key"]}
        ).scalar()
    assert target.startswith("sftp://127.0.0.1:")
    # The others have no connection configured: the local exchange folder.
    assert not (s.exchange / "1123456789").exists() and (s.exchange / "1234509876" / "outbound").is_dir()


@pytest.mark.parametrize(
    "content, reason",
    [
        (
            "patient_control_number,payer_id,billed_amount,service_date_from\nP1,1123456789,10.00,2026-10-01\n",
            "MISSING_COLUMNS",
        ),
        (
            "patient_control_number,payer_id,billed_amount,service_date_from,submitted_date\n"
            "P1,1123456789,ten,2026-10-01,2026-10-03\n",
            "BAD_NUMBER",
        ),
        (
            "patient_control_number,payer_id,billed_amount,service_date_from,submitted_date\n"
            "P1,1123456789,10.001,2026-10-01,2026-10-03\n",
            "BAD_AMOUNT_SCALE",
        ),
        (
            "patient_control_number,payer_id,billed_amount,service_date_from,submitted_date\n"
            "P1,1123456789,10.00,2026-13-01,2026-10-03\n",
            "BAD_DATE",
        ),
        (
            "patient_control_number,payer_id,billed_amount,service_date_from,submitted_date\n"
            "P1,1123456789,-5.00,2026-10-01,2026-10-03\n",
            "BAD_BILLED_AMOUNT",
        ),
        (
            "patient_control_number,payer_id,billed_amount,service_date_from,submitted_date\n"
            "P1,1123456789,5.00,2026-10-01,2026-10-03\nP1,1123456789,6.00,2026-10-01,2026-10-03\n",
            "DUPLICATE_OPEN_ITEM",
        ),
        ("", "EMPTY_FILE"),
    ],
)
def test_bad_open_item_snapshots_are_quarantined_with_their_reason(rc_home, content, reason):
    folder = get_settings().inbound / "billing"
    folder.mkdir(parents=True)
    (folder / "open_ar.csv").write_text(content)
    (row,) = run_source("open_items", DAY).values()
    assert (row["state"], row["reason"]) == ("quarantined", reason)


def test_windows_1252_snapshot_with_semicolons_is_read(rc_home):
    folder = get_settings().inbound / "billing"
    folder.mkdir(parents=True)
    body = (
        "Patient_Control_Number;Payer_ID;Billed_Amount;Service_Date_From;Submitted_Date;Subscriber_Last_Name\n"
        "P1;1123456789;1234.50;10/01/2026;10/03/2026;SYNTHMU\u00d1OZ\n"
    )
    (folder / "open_ar.csv").write_bytes(body.encode("cp1252"))
    (row,) = run_source("open_items", DAY).values()
    assert row["state"] == "posted"
    with engine_for("erp").connect() as conn:
        (item,) = conn.execute(text("select billed_amount, service_date_from from erp.ar_open_item")).all()
    assert str(item[0]) in ("1234.5", "1234.50") and str(item[1]) == "2026-10-01"
