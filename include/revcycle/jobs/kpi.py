"""Integration KPIs of a business day, computed from the ledger, the latency records, the ERP and the queue,
and kept in ``ops.kpi_daily`` (one row per KPI and day; recomputing a day overwrites its rows).

| KPI | how it is measured |
|---|---|
| failed_file_rate | quarantined files / files of the day |
| failed_message_rate | HL7 messages answered AE or AR / HL7 messages of the day |
| mean_time_to_detect_minutes | mean of landed -> quarantined over the day's quarantined files |
| charge_lag_days | mean of (ERP posting day - usage day) over the day's inventory issues |
| unposted_payments | remittance files quarantined (count; their BPR02 in detail) + payments missing in the ERP |
| reconciliation_backlog | open exception items (amount in detail), of which older than 7 days |
| interfaces_monitored_share | DAGs with latency records for the day / DAG files in dags/ |
| client_cert_days_left | days from the day to the expiry of the first partner API client certificate to lapse |
| deployment_lead_time_hours | not measurable on the embedded default (no deployment record): stored empty, said so |
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from revcycle.adapters.db import as_date, as_datetime, engine_for, query
from revcycle.domain.datasets import publishers
from revcycle.settings import DAGS_DIR


def compute(day: dt.date) -> list[dict]:
    with engine_for("ops").connect() as conn:
        files = [dict(r) for r in query(conn, "ops/kpi_inputs_files", {"business_date": day}).mappings()]
        monitored = query(conn, "ops/kpi_monitored_dags", {"business_date": day}).scalar() or 0
        queue = [dict(r) for r in query(conn, "ops/exception_items").mappings()]
        certificates = [dict(r) for r in query(conn, "ops/api_certificates").mappings()]
    with engine_for("erp").connect() as conn:
        lags = query(conn, "erp/kpi_charge_lag", {"business_date": day}).all()
    quarantined = [f for f in files if f["state"] == "quarantined"]
    messages = failed_messages = 0
    for f in files:
        totals = json.loads(f["control_totals"] or "{}")
        if totals.get("format") == "hl7":
            messages += totals.get("messages", 0)
            failed_messages += sum(v for k, v in totals.get("acks", {}).items() if k in ("AE", "AR"))
    detect = [
        (as_datetime(f["quarantined_at"]) - as_datetime(f["landed_at"])).total_seconds() / 60
        for f in quarantined
        if as_datetime(f["quarantined_at"]) and as_datetime(f["landed_at"])
    ]
    lag_days = [((as_date(b) - as_date(a)).days) for a, b in lags if a and b]
    unposted_files = [f for f in quarantined if f["source"] in publishers("canonical__remittance")]
    unposted_amount = sum(
        (Decimal(json.loads(f["control_totals"] or "{}").get("bpr02", "0")) for f in unposted_files), Decimal("0")
    )
    missing_in_erp = [q for q in queue if q["status"] == "open" and q["category"] == "payment_not_in_erp"]
    open_items = [q for q in queue if q["status"] == "open"]
    aged = [q for q in open_items if (day - as_date(q["first_seen"])).days > 7]
    dag_files = len(list(DAGS_DIR.glob("*.py")))
    # Partners' mutual-TLS client certificates: the days left on the first to lapse, counted from the day.
    expiries = [
        ((as_datetime(c["not_after"]).date() - day).days, (c["partner"], as_datetime(c["not_after"]).date()))
        for c in certificates
    ]
    rows = [
        (
            "failed_file_rate",
            _ratio(len(quarantined), len(files)),
            "ratio",
            f"{len(quarantined)} of {len(files)} files",
        ),
        (
            "failed_message_rate",
            _ratio(failed_messages, messages),
            "ratio",
            f"{failed_messages} of {messages} HL7 messages AE/AR",
        ),
        ("mean_time_to_detect_minutes", _mean(detect), "minutes", f"{len(detect)} quarantined files"),
        ("charge_lag_days", _mean(lag_days), "days", f"{len(lag_days)} inventory issues"),
        (
            "unposted_payments",
            Decimal(len(unposted_files) + len(missing_in_erp)),
            "count",
            f"{len(unposted_files)} remittance files quarantined (BPR02 {unposted_amount}), "
            f"{len(missing_in_erp)} payments missing in the ERP",
        ),
        (
            "reconciliation_backlog",
            Decimal(len(open_items)),
            "items",
            f"amount at stake {sum((Decimal(str(q['amount_at_stake'])) for q in open_items), Decimal('0'))}; "
            f"{len(aged)} older than 7 days",
        ),
        (
            "interfaces_monitored_share",
            _ratio(monitored, dag_files),
            "ratio",
            f"{monitored} of {dag_files} DAGs have latency records for the day",
        ),
        (
            "client_cert_days_left",
            Decimal(min(days for days, _ in expiries)) if expiries else None,
            "days",
            ", ".join(f"{partner} until {until}" for days, (partner, until) in sorted(expiries))
            if expiries
            else "no partner API client certificate in use",
        ),
        (
            "deployment_lead_time_hours",
            None,
            "hours",
            "not measurable here: no deployment record on the embedded default",
        ),
    ]
    out = [{"business_date": day, "kpi": k, "value": v, "unit": u, "detail": d} for k, v, u, d in rows]
    with engine_for("ops").begin() as conn:
        for r in out:
            query(conn, "ops/kpi_upsert", r)
    return out


def _ratio(a: int, b: int) -> Decimal | None:
    return None if not b else (Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"))


def _mean(values: list[float]) -> Decimal | None:
    return None if not values else Decimal(sum(values) / len(values)).quantize(Decimal("0.0001"))
