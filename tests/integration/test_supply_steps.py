"""Supply usage and supplier invoices through the shared steps (no Airflow): ERP inventory, replenishment,
invoice matching with the seeded breaks found exactly, message-level rejects with ACKs, replays."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for
from revcycle.hl7.reader import read_messages
from revcycle.jobs import supply_match
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.conftest import FIXTURES, sample_files
from tests.pipeline_helpers import erp_snapshot, run_source

DAY = dt.date(2026, 11, 24)
SUPPLY_TABLES = (
    "erp.inventory_transaction",
    "erp.replenishment_request",
    "erp.supplier_invoice_line",
    "erp.invoice_match",
)


def scalar(sql: str, **params):
    with engine_for("erp").connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_synthetic_day_posts_usage_and_finds_exactly_the_seeded_invoice_breaks(backend):
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 200, 21, supply_messages=120)
    usage = run_source("supply_usage", DAY)
    invoices = run_source("supplier_invoices", DAY)
    assert {r["state"] for r in [*usage.values(), *invoices.values()]} == {"posted"}
    hl7 = [f for f in manifest["files"] if f["type"] == "hl7"]
    csv_rows = next(f["rows"] for f in manifest["files"] if f["type"] == "usage_csv")
    lines = sum(f["ft1"] for f in hl7) + csv_rows
    assert scalar("select count(*) from erp.inventory_transaction") == lines  # every item is in the master
    # The HL7 charges tie to the source to the cent.
    hl7_totals = [json.loads(r["control_totals"]) for r in usage.values() if r["original_name"].endswith(".hl7")]
    assert sum(Decimal(t["charge_amount"]) for t in hl7_totals) == sum(Decimal(f["charge_total"]) for f in hl7)
    invoice_file = next(f for f in manifest["files"] if f["type"] == "invoice_csv")
    consigned = invoice_file["lines"] - 1  # one seeded orphan line
    assert scalar("select count(*) from erp.replenishment_request") == consigned

    result = supply_match.run(DAY, "run")
    found = sorted((e["status"], e["serial"]) for e in supply_match.exceptions(DAY))
    assert found == sorted((b["kind"], b["serial"]) for b in invoice_file["breaks"])
    assert result["outcomes"]["matched"] == consigned - 1
    price = next(e for e in supply_match.exceptions(DAY) if e["status"] == "price_mismatch")
    assert Decimal(str(price["amount_at_stake"])) == (
        Decimal(str(price["invoice_unit_price"])) - Decimal(str(price["expected_unit_price"]))
    ).quantize(Decimal("0.01"))
    csv_text = (s.reports / "supply_match" / DAY.isoformat() / "exceptions.csv").read_text()
    assert csv_text.count("\n") == 3 and "price_mismatch" in csv_text and "invoice_without_usage" in csv_text

    # Replay: nothing changes in the ERP, the lake or the exception list.
    before = erp_snapshot(SUPPLY_TABLES)
    lake_before = {p: p.read_bytes() for p in s.lake.rglob("*.parquet")}
    ledger.requeue_posted(DAY)
    run_source("supply_usage", DAY, "replay")
    run_source("supplier_invoices", DAY, "replay")
    supply_match.run(DAY, "replay")
    assert erp_snapshot(SUPPLY_TABLES) == before
    assert {p: p.read_bytes() for p in s.lake.rglob("*.parquet")} == lake_before
    assert (s.reports / "supply_match" / DAY.isoformat() / "exceptions.csv").read_text() == csv_text

    # No PHI in the lake: names, MRNs and birth dates stay in the raw HL7.
    lake_text = "".join(json.dumps(pq.read_table(p).to_pylist(), default=str) for p in s.lake.rglob("*.parquet"))
    assert "SYNTH" in (s.inbound / hl7[0]["path"]).read_text() and "SMRN" not in lake_text
    assert not any(name in lake_text for name in ("SYNTHALDER", "SYNTHBIRCH", "SYNTHCEDAR", "SYNTHELM"))


def test_an_invoice_arriving_later_closes_usage_without_invoice(rc_home):
    s = get_settings()
    folder = s.inbound / "supply"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "hl7" / "batch_crlf_fhs.hl7", folder)
    run_source("supply_usage", DAY)
    supply_match.run(DAY)
    assert [(e["status"], e["serial"]) for e in supply_match.exceptions(DAY)] == [
        ("usage_without_invoice", "SN-FIX-0001")
    ]
    later = DAY + dt.timedelta(days=3)
    (s.inbound / "invoices").mkdir()
    (s.inbound / "invoices" / "inv.csv").write_text(
        "invoice_number,supplier_id,invoice_date,line_number,vendor_item_number,gtin,lot,serial,quantity,unit_price\n"
        "INV-9,SUP-ORTHOA,2026-11-27,1,ORA-HS-1001,10614141000101,LOT000111,SN-FIX-0001,1,1860.00\n"
    )
    run_source("supplier_invoices", later)
    supply_match.run(later)
    assert supply_match.exceptions(later) == []  # within the 2% tolerance: matched, the exception closed
    assert scalar("select status from erp.invoice_match") == "matched"
    assert scalar("select first_seen from erp.invoice_match")[:10] == DAY.isoformat()


def test_malformed_messages_are_rejected_with_acks_and_the_batch_goes_on(rc_home):
    s = get_settings()
    folder = s.inbound / "supply"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "hl7" / "malformed_batch.hl7", folder)
    (row,) = run_source("supply_usage", DAY).values()
    assert row["state"] == "posted"
    totals = json.loads(row["control_totals"])
    assert totals["acks"] == {"AA": 2, "AE": 4, "AR": 2} and totals["usage_lines"] == 2
    assert sorted(r["reason"] for r in totals["rejected"]) == sorted(
        ["NO_MSH", "BAD_NUMBER", "FT1_WITHOUT_PID", "BAD_ENCODING_CHARACTERS", "BAD_GTIN_CHECK_DIGIT", "BAD_QUANTITY"]
    )
    # One ACK per message, in order, answering each control id.
    (ack_path,) = row["ack_path"].split(",")
    acks = [
        (m.segments_named("MSA")[0][1], m.segments_named("MSA")[0][2] if len(m.segments_named("MSA")[0]) > 2 else "")
        for m in read_messages(ack_path)
    ]
    assert acks == [
        ("AR", ""),
        ("AA", "FIXM0001"),
        ("AE", "FIXM0002"),
        ("AE", "FIXM0003"),
        ("AR", ""),
        ("AE", "FIXM0005"),
        ("AE", "FIXM0006"),
        ("AA", "FIXM0007"),
    ]
    # The rejected messages are kept with their reasons; the acks and the report hold no PHI.
    kept = sorted(p.name for p in (s.quarantine / DAY.isoformat() / "messages").glob("*.reason.json"))
    assert len(kept) == 6
    assert "SYNTHTEST" not in open(ack_path, encoding="latin-1").read()
    report = open(row["report_path"]).read()
    assert "SYNTHTEST" not in report and "BAD_GTIN_CHECK_DIGIT" in report
    assert scalar("select count(*) from erp.inventory_transaction") == 2


def test_usage_csv_rows_with_bad_values_are_rejected_alone(rc_home):
    folder = get_settings().inbound / "supply"
    folder.mkdir(parents=True)
    (folder / "or.csv").write_text(
        "case_id,used_at,vendor_item_number,gtin,lot,serial,quantity,unit_cost,department\n"
        "C1,20261124,GLV-GL-7750,,,,10,2.40,OR1\n"
        "C1,20261124,GLV-GL-7750,,,,ten,2.40,OR1\n"
        "C2,20261124,,10614141000102,,,1,5.00,OR1\n"
        "C3,20261124,NOT-IN-MASTER,,,,1,9.99,OR2\n"
    )
    (row,) = run_source("supply_usage", DAY).values()
    totals = json.loads(row["control_totals"])
    assert row["state"] == "posted" and totals["items"] == {"mapped": 1, "unmapped": 1}
    assert sorted(r["reason"] for r in totals["rejected"]) == ["BAD_GTIN_CHECK_DIGIT", "BAD_NUMBER"]
    assert "UNMAPPED_ITEM" in open(row["report_path"]).read()  # flagged, published, not posted
    assert scalar("select count(*) from erp.inventory_transaction") == 1


@pytest.mark.parametrize(
    "content, reason",
    [
        ("case_id,quantity,department\nC1,1,OR1\n", "MISSING_COLUMNS"),
        (
            "case_id,used_at,vendor_item_number,quantity,department\nC1,20261124,GLV-GL-7750,0,OR1\n",
            "ALL_ROWS_REJECTED",
        ),
    ],
)
def test_unusable_usage_files_are_quarantined(rc_home, content, reason):
    folder = get_settings().inbound / "supply"
    folder.mkdir(parents=True)
    (folder / "or.csv").write_text(content)
    (row,) = run_source("supply_usage", DAY).values()
    assert (row["state"], row["reason"]) == ("quarantined", reason)


@pytest.mark.parametrize("path", sample_files("hl7"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_each_sample_hl7_file_posts(rc_home, path):
    folder = get_settings().inbound / "supply"
    folder.mkdir(parents=True)
    shutil.copy(path, folder / path.name)
    (row,) = run_source("supply_usage", DAY).values()
    assert (row["state"], row["reason"]) == ("posted", None)
    totals = json.loads(row["control_totals"])
    assert totals["acks"] == {"AA": totals["messages"]}


def test_a_file_sent_as_hl7_with_no_message_is_refused_as_hl7_not_as_a_csv(rc_home):
    """The supply folder takes HL7 and CSV; a .hl7 file is judged as HL7 even with no header in it, so the
    operator reads that no message in it was HL7, not a CSV's MISSING_COLUMNS."""
    folder = get_settings().inbound / "supply"
    folder.mkdir(parents=True)
    (folder / "dft_garbled.hl7").write_bytes(b"no HL7 message in this file\r")
    row = run_source("supply_usage", DAY)["dft_garbled.hl7"]
    assert (row["state"], row["reason"]) == ("quarantined", "ALL_MESSAGES_REJECTED")  # its one line: NO_MSH
