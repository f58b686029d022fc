"""SLA thresholds, latency records, breaches alerted exactly once (webhook and callback), the report."""

from __future__ import annotations

import datetime as dt

import pytest

from revcycle.jobs import sla
from revcycle.settings import reset_settings

DAY = dt.date(2026, 11, 24)
T0 = dt.datetime(2026, 11, 25, 6, 0, 0, tzinfo=dt.UTC)
CALLS: list[dict] = []


def remember(alert: dict) -> None:
    CALLS.append(alert)


@pytest.fixture
def webhook():
    from tests.alert_server import start

    received, url, server = start()
    yield url, received
    server.shutdown()


def test_thresholds_most_specific_pattern_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "sla.toml"
    cfg.write_text(
        '[task_seconds]\ndefault = 100\n"*.land" = 10\n"remittance.land" = 5\n'
        "[pipeline_minutes]\ndefault = 60\nremittance = 30\n[deadline_minutes]\ndefault = 90\n"
    )
    monkeypatch.setenv("REVCYCLE_SLA_FILE", str(cfg))
    reset_settings()
    assert sla.task_threshold("remittance", "land") == 5
    assert sla.task_threshold("claim_status", "land") == 10
    assert sla.task_threshold("claim_status", "summarize") == 100
    assert (sla.pipeline_threshold_minutes("remittance"), sla.pipeline_threshold_minutes("other")) == (30, 60)
    assert sla.deadline_minutes("x") == 90


def test_breach_alerted_once_through_webhook_and_callback(rc_home, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("REVCYCLE_ALERT_WEBHOOK", url)
    monkeypatch.setenv("REVCYCLE_ALERT_CALLBACK", "tests.unit.jobs.test_sla:remember")
    reset_settings()
    CALLS.clear()
    common = {"dag_id": "remittance", "run_id": "r1", "map_index": -1, "business_date": DAY, "started_at": T0}
    fast = sla.record_task(
        task_id="summarize", try_number=1, state="success", ended_at=T0 + dt.timedelta(seconds=2), **common
    )
    slow = sla.record_task(
        task_id="land", try_number=1, state="success", ended_at=T0 + dt.timedelta(seconds=400), **common
    )
    again = sla.record_task(
        task_id="land", try_number=1, state="success", ended_at=T0 + dt.timedelta(seconds=400), **common
    )  # the same try reported twice (a listener retry): no second alert
    assert (fast["breached"], slow["breached"], again["breached"]) == (False, True, True)
    assert len(received) == 1 and len(CALLS) == 1
    assert received[0]["task_id"] == "land" and received[0]["seconds"] == 400.0
    assert received[0]["threshold_seconds"] == 180.0
    assert sla.breaches_for_day(DAY) == 1
    report = sla.report(DAY)
    land = next(t for t in report["tasks"] if t["task_id"] == "land")
    assert (land["tries"], land["max"], land["breaches"]) == (1, 400.0, 1)


def test_a_failing_webhook_never_fails_the_task(rc_home, monkeypatch):
    monkeypatch.setenv("REVCYCLE_ALERT_WEBHOOK", "http://127.0.0.1:9/nowhere")
    reset_settings()
    row = sla.record_task(
        dag_id="d",
        task_id="t",
        run_id="r",
        map_index=0,
        try_number=1,
        business_date=DAY,
        state="failed",
        started_at=T0,
        ended_at=T0 + dt.timedelta(hours=2),
    )
    assert row["breached"]


def test_percentiles_per_task(rc_home):
    for n, seconds in enumerate([1, 2, 3, 4, 100], start=1):
        sla.record_task(
            dag_id="d",
            task_id="parse",
            run_id="r",
            map_index=n,
            try_number=1,
            business_date=DAY,
            state="success",
            started_at=T0,
            ended_at=T0 + dt.timedelta(seconds=seconds),
        )
    (task,) = sla.report(DAY)["tasks"]
    assert (task["tries"], task["p50"], task["max"]) == (5, 3.0, 100.0)
    assert task["p95"] == pytest.approx(80.8)
