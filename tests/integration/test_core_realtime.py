"""Claim status in real time over a clearinghouse API: each 276 goes out in a CAQH CORE envelope (multipart,
PayloadID from the 276's business key, checksum), OAuth 2.0 against the test server's token endpoint, and the
277 that answers it lands in the raw zone and posts exactly as the same 277 from the inbound folder."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for
from revcycle.jobs import inquiries
from revcycle.synthetic.day import generate_day
from tests.conftest import reset_caches, use_home
from tests.partner_server import Behaviour, partner_server
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)


def claim_status_tables() -> dict:
    with engine_for("erp").connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(text(f"select * from erp.{t}")).all()))
            for t in ("claim_status", "claim_status_history")
        }


def test_277s_answered_in_real_time_post_like_the_files(tmp_path, monkeypatch):
    results = {}
    for route in ("files", "core"):
        s = use_home(monkeypatch, tmp_path / route, "REVCYCLE_TRADING_PARTNERS")
        generate_day(s.inbound, DAY, 150, 9)
        for source in ("open_items", "remittance"):
            assert {r["state"] for r in run_source(source, DAY).values()} == {"posted"}
        if route == "files":
            assert {r["state"] for r in run_source("claim_status", DAY).values()} == {"posted"}
            results[route] = claim_status_tables()
            continue
        answers = {}
        for path in sorted((s.inbound / "claim_status").glob("*.277")):
            answers[path.name.split("_")[1]] = path.read_bytes()  # status_<payer id>_<day>.277
            path.unlink()
        partners = tmp_path / "partners.toml"
        partners.write_text(
            s.trading_partners_file.read_text().replace(
                'remote_dir = "/outbound/276"', 'core_conn_id = "clearinghouse_core"\nremote_dir = "/outbound/276"'
            )
        )
        with partner_server(tmp_path / "tls", Behaviour(core_answers=answers)) as partner:
            monkeypatch.setenv("AIRFLOW_CONN_CLEARINGHOUSE_CORE", partner.airflow_connection())
            monkeypatch.setenv("REVCYCLE_TRADING_PARTNERS", str(partners))
            reset_caches()
            built = [f for f in inquiries.build(DAY, "run") if f["file_key"]]
            assert len(built) == len(answers) == 4
            sent = [inquiries.upload(f["file_key"], "run") for f in built]
            assert {f["state"] for f in sent} == {"uploaded"}
            requests = partner.behaviour.core_requests
            assert len(requests) == 4 and {r["ReceiverID"] for r in requests} == set(answers)
            assert all(r["CORERuleVersion"] == "2.2.0" and uuid.UUID(r["PayloadID"]) for r in requests)
            # The same 276 again is the same request (PayloadID from its business key): the same answer, and
            # landing it again adds nothing.
            row = inquiries._get(built[0]["file_key"])
            cfg = inquiries.trading_partners()["payers"][row["partner_id"]]
            inquiries._exchange_realtime(row, cfg, "again")
            assert len({r["PayloadID"] for r in partner.behaviour.core_requests}) == 4
        landed = [r for r in ledger.for_day(DAY) if r["source"] == "claim_status"]
        assert len(landed) == 4 and all(r["original_name"].startswith("core_") for r in landed)
        assert {r["state"] for r in run_source("claim_status", DAY).values()} == {"posted"}
        results[route] = claim_status_tables()
    assert results["core"] == results["files"] and results["files"]["claim_status"]
