"""Claim status (277/277CA) through the shared steps: history and latest status in the ERP, linked to 835s."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import text

from revcycle.adapters.db import engine_for, sql
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.conftest import sample_files
from tests.pipeline_helpers import erp_snapshot, run_source

DAY = dt.date(2026, 11, 24)
STATUS_TABLES = ("erp.claim_status", "erp.claim_status_history")


def status_with_payment() -> list[dict]:
    with engine_for("erp").connect() as conn:
        return [dict(r) for r in conn.execute(text(sql("erp/claim_status_with_payment"))).mappings()]


def test_synthetic_statuses_meet_their_payments_and_replay_changes_nothing(rc_home):
    s = get_settings()
    manifest = generate_day(s.inbound, DAY, 300, 13)
    run_source("remittance", DAY)
    rows = run_source("claim_status", DAY)
    assert {r["state"] for r in rows.values()} == {"posted"}
    expected_events = sum(f["stc"] for f in manifest["files"] if f["type"] == "277")
    with engine_for("erp").connect() as conn:
        assert conn.execute(text("select count(*) from erp.claim_status_history")).scalar() == expected_events
    joined = status_with_payment()
    seeded = {p for f in manifest["files"] if f["type"] == "277" for p in f["paid_without_remittance"]}
    paid = [r for r in joined if r["category_code"] == "F1" and r["patient_control_number"] not in seeded]
    pending = [r for r in joined if r["category_code"] == "P1"]
    assert paid and all(r["is_final"] and r["payments"] >= 1 for r in paid)  # final status and its payment
    # The generator's one claim reported paid with no 835 behind it (a reconciliation break).
    assert [r["payments"] for r in joined if r["patient_control_number"] in seeded] == [0]
    assert pending and all(not r["is_final"] and r["payments"] == 0 for r in pending)
    before = erp_snapshot(STATUS_TABLES)
    from revcycle.adapters import ledger

    ledger.requeue_posted(DAY)
    run_source("remittance", DAY, "replay")
    run_source("claim_status", DAY, "replay")
    assert erp_snapshot(STATUS_TABLES) == before


def test_newer_status_replaces_older_but_history_keeps_both(rc_home, tmp_path):
    s = get_settings()
    inbound = s.inbound / "claim_status"
    inbound.mkdir(parents=True)
    FIXTURE = tmp_path / "base.277"
    FIXTURE.write_text(
        "ISA*00*          *00*          *ZZ*PAYERX         *ZZ*SYNTHHOSP      *261120*0800*^*00501*000000301*0*P*:~"
        "GS*HN*PAYERX*SYNTHHOSP*20261120*0800*301*X*005010X212~ST*277*0001*005010X212~"
        "BHT*0010*08*R1*20261120*0800*DG~HL*1**20*1~NM1*PR*2*PAYER X*****PI*PX1~HL*2*1*21*1~"
        "NM1*41*2*SYNTHETIC GENERAL HOSPITAL*****46*SYNTHHOSP~HL*3*2*19*1~NM1*1P*2*SGH*****XX*1999999984~"
        "HL*4*3*22*0~NM1*IL*1*SYNTHOAK*AVERY****MI*ZZ1~TRN*2*PCN9~STC*P1:20:PR*20261110**100~REF*1K*ICN9~"
        "SE*14*0001~GE*1*301~IEA*1*000000301~"
    )
    shutil.copy(FIXTURE, inbound / "pending.277")
    run_source("claim_status", DAY)
    final = (
        FIXTURE.read_text()
        .replace("STC*P1:20:PR*20261110**100", "STC*F1:65:PR*20261118**100*80")
        .replace("000000301", "000000302")
        .replace("*301*", "*302*")
        .replace("GE*1*301", "GE*1*302")
    )
    (inbound / "final.277").write_text(final)
    run_source("claim_status", DAY, "later")
    (row,) = status_with_payment()
    assert (row["category_code"], row["is_final"]) == ("F1", True)
    with engine_for("erp").connect() as conn:
        assert conn.execute(text("select count(*) from erp.claim_status_history")).scalar() == 2
    # An older status arriving late does not overwrite the newer one.
    late = (
        FIXTURE.read_text()
        .replace("STC*P1:20:PR*20261110", "STC*P2:20:PR*20261105")
        .replace("000000301", "000000303")
        .replace("*301*", "*303*")
        .replace("GE*1*301", "GE*1*303")
    )
    (inbound / "late.277").write_text(late)
    run_source("claim_status", DAY, "late")
    (row,) = status_with_payment()
    assert row["category_code"] == "F1"
    assert "SYNTHOAK" not in repr(erp_snapshot(STATUS_TABLES))


@pytest.mark.parametrize(
    "mutate,reason",
    [
        (lambda t: t[: t.index("SE*")], "TRUNCATED"),
        (lambda t: t.replace("STC*F1:65:PR*20261118", "STC*ZZ:65:PR*20261118"), "BAD_STATUS_CATEGORY"),
        (lambda t: t.replace("STC*F1:65:PR*20261118", "STC*F1:65:PR*20261399"), "INVALID_STATUS_DATE"),
        (lambda t: t.replace("SE*14*0001", "SE*15*0001"), "SE_COUNT_MISMATCH"),
        (lambda t: t.replace("GS*HN*", "GS*HP*"), "WRONG_TRANSACTION_TYPE"),
    ],
)
def test_malformed_277_quarantined_with_specific_reasons(rc_home, mutate, reason):
    s = get_settings()
    inbound = s.inbound / "claim_status"
    inbound.mkdir(parents=True)
    good = (
        "ISA*00*          *00*          *ZZ*PAYERX         *ZZ*SYNTHHOSP      *261120*0800*^*00501*000000301*0*P*:~"
        "GS*HN*PAYERX*SYNTHHOSP*20261120*0800*301*X*005010X212~ST*277*0001*005010X212~"
        "BHT*0010*08*R1*20261120*0800*DG~HL*1**20*1~NM1*PR*2*PAYER X*****PI*PX1~HL*2*1*21*1~"
        "NM1*41*2*SYNTHETIC GENERAL HOSPITAL*****46*SYNTHHOSP~HL*3*2*19*1~NM1*1P*2*SGH*****XX*1999999984~"
        "HL*4*3*22*0~NM1*IL*1*SYNTHOAK*AVERY****MI*ZZ1~TRN*2*PCN9~STC*F1:65:PR*20261118**100*80~REF*1K*ICN9~"
        "SE*14*0001~GE*1*301~IEA*1*000000301~"
    )
    (inbound / "good.277").write_text(good.replace("PCN9", "PCN8").replace("000000301", "000000401"))
    (inbound / "bad.277").write_text(mutate(good))
    rows = run_source("claim_status", DAY)
    assert rows["good.277"]["state"] == "posted"
    assert (rows["bad.277"]["state"], rows["bad.277"]["reason"]) == ("quarantined", reason)


# Claims (TRN*2 under HL 22/23/PT) and STC composites per sample file, counted by hand from the segments.
SAMPLE_COUNTS = {
    "lfh-x12__claim-level-status.277": (3, 4, "posted", None),
    "lfh-x12__provider-level-status.277": (1, 2, "posted", None),
    "lfh-x12__information-receiver-level-status.277": (0, 1, "posted", None),
    "lfh-x12__claim-level-status-ncpdp.277": (1, 1, "posted", None),
    "imsweb__x12_277CA_accepted.txt": (1, 2, "posted", None),
    "imsweb__x12_277_x212.txt": (8, 8, "quarantined", "IEA_CONTROL_MISMATCH"),  # IEA02 != ISA13 (source quirk)
    "oopfactory__277_Deidentified_from_nth.txt": (3, 12, "quarantined", "BAD_STATUS_CATEGORY"),  # masked X9 codes
}


@pytest.mark.samples
@pytest.mark.parametrize("path", sample_files("x12/277"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_each_sample_277(rc_home, path):
    from revcycle.errors import X12Error
    from revcycle.x12.claim_status import read_claim_status

    claims = events = 0
    try:
        for _, sset in read_claim_status(path, 64):
            claims += sset.claims
            events += len(sset.events)
    except X12Error:
        pass
    n_claims, n_events, state, reason = SAMPLE_COUNTS[path.name]
    assert (claims, events) == (n_claims, n_events)
    s = get_settings()
    (s.inbound / "claim_status").mkdir(parents=True)
    shutil.copy(path, s.inbound / "claim_status" / path.name)
    row = run_source("claim_status", DAY)[path.name]
    assert (row["state"], row["reason"]) == (state, reason)
