"""Per-task latency SLAs: thresholds from ``include/config/sla.toml``, records, breaches, alerts, the report.

The listener plugin (``plugins/revcycle_sla.py`` -> ``revcycle.airflow.sla_listener``)
calls ``record_task`` when a task instance try ends; a try over its threshold
is a breach, stored once in ``ops.sla_breach`` and alerted once: a log line,
then ``REVCYCLE_ALERT_WEBHOOK`` (JSON POST) and ``REVCYCLE_ALERT_CALLBACK``
(``module:function(alert: dict)``) when set.  Alerts carry identifiers and
timings only.  ``report(day)`` gives p50/p95/max per task against its
threshold, the breaches and the business latency (landed -> posted) per file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib
import json
import logging
import tomllib
import urllib.request
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from revcycle.adapters.db import as_datetime, engine_for, query
from revcycle.domain.keys import business_key
from revcycle.settings import get_settings

log = logging.getLogger(__name__)


def sla_file() -> Path:
    return get_settings().sla_file


@lru_cache(maxsize=4)
def _config(path: Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def config() -> dict:
    return _config(sla_file())


def task_threshold(dag_id: str, task_id: str) -> float:
    table = config().get("task_seconds", {})
    name = f"{dag_id}.{task_id}"
    matches = [p for p in table if p != "default" and fnmatch.fnmatchcase(name, p)]
    best = max(matches, key=len) if matches else "default"
    return float(table.get(best, 600))


def pipeline_threshold_minutes(source: str) -> float:
    table = config().get("pipeline_minutes", {})
    return float(table.get(source, table.get("default", 120)))


def deadline_minutes(dag_id: str) -> float:
    table = config().get("deadline_minutes", {})
    return float(table.get(dag_id, table.get("default", 120)))


def _naive(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def record_task(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int,
    try_number: int,
    business_date: dt.date | None,
    state: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
) -> dict:
    """Store one task try's latency; on a breach store it and alert exactly once. Returns what was recorded."""
    seconds = max(0.0, (_naive(ended_at) - _naive(started_at)).total_seconds())
    threshold = task_threshold(dag_id, task_id)
    key = business_key("ti", dag_id, task_id, run_id, map_index, try_number)
    row = {
        "ti_key": key,
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        "try_number": try_number,
        "business_date": business_date,
        "state": state,
        "started_at": _naive(started_at).replace(microsecond=0),
        "ended_at": _naive(ended_at).replace(microsecond=0),
        "seconds": Decimal(f"{seconds:.3f}"),
        "threshold_seconds": Decimal(f"{threshold:.3f}"),
        "breached": seconds > threshold,
    }
    with engine_for("ops").begin() as conn:
        query(conn, "ops/task_latency_insert", row)
        first_time = False
        if row["breached"]:
            first_time = bool(
                query(
                    conn,
                    "ops/sla_breach_insert",
                    {
                        **{
                            k: row[k]
                            for k in ("ti_key", "dag_id", "task_id", "business_date", "seconds", "threshold_seconds")
                        },
                        "now": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
                    },
                ).rowcount
            )
    if first_time:
        alert(
            {
                "kind": "task_sla_breach",
                "dag_id": dag_id,
                "task_id": task_id,
                "run_id": run_id,
                "map_index": map_index,
                "try_number": try_number,
                "seconds": round(seconds, 3),
                "threshold_seconds": threshold,
                "business_date": str(business_date) if business_date else None,
            }
        )
    return row


def alert(payload: dict) -> None:
    """Log, then webhook and callback when configured; an alert channel failing never fails the task."""
    log.warning(
        "SLA breach: %s.%s took %ss (threshold %ss)",
        payload.get("dag_id"),
        payload.get("task_id"),
        payload.get("seconds"),
        payload.get("threshold_seconds"),
    )
    url = get_settings().alert_webhook
    if url:
        try:
            req = urllib.request.Request(
                url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(req, timeout=5).close()
        except Exception as exc:  # noqa: BLE001 - an alert channel failing never fails the task
            log.error("SLA alert webhook failed: %s", type(exc).__name__)
    target = get_settings().alert_callback
    if target:
        try:
            module, function = target.split(":")
            getattr(importlib.import_module(module), function)(payload)
        except Exception as exc:  # noqa: BLE001 - an alert channel failing never fails the task
            log.error("SLA alert callback failed: %s", type(exc).__name__)


async def deadline_missed(**kwargs) -> None:
    """Deadline Alert callback (runs in the triggerer): the same alert channels as task breaches."""
    context = kwargs.get("context") or {}
    dag_run = context.get("dag_run")
    alert(
        {
            "kind": "dag_deadline_missed",
            "dag_id": kwargs.get("dag_id") or getattr(dag_run, "dag_id", None),
            "task_id": None,
            "run_id": getattr(dag_run, "run_id", None),
            "seconds": None,
            "threshold_seconds": kwargs.get("minutes", 0) * 60,
        }
    )


# -- the report -------------------------------------------------------------------------
def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def report(day: dt.date) -> dict:
    with engine_for("ops").connect() as conn:
        tries = [dict(r) for r in query(conn, "ops/task_latency_for_day", {"business_date": day}).mappings()]
        files = [dict(r) for r in query(conn, "ops/file_latency_for_day", {"business_date": day}).mappings()]
        breaches = [dict(r) for r in query(conn, "ops/sla_breaches_for_day", {"business_date": day}).mappings()]
    by_task: dict[tuple[str, str], list[dict]] = {}
    for t in tries:
        by_task.setdefault((t["dag_id"], t["task_id"]), []).append(t)
    tasks = []
    for (dag_id, task_id), rows in sorted(by_task.items()):
        secs = [float(r["seconds"]) for r in rows]
        tasks.append(
            {
                "dag_id": dag_id,
                "task_id": task_id,
                "tries": len(rows),
                "p50": round(_percentile(secs, 0.5), 3),
                "p95": round(_percentile(secs, 0.95), 3),
                "max": round(max(secs), 3),
                "threshold": float(rows[0]["threshold_seconds"]),
                "breaches": sum(1 for r in rows if r["breached"]),
                "failed": sum(1 for r in rows if r["state"] != "success"),
            }
        )
    per_file = []
    for f in files:
        landed, finished = as_datetime(f["landed_at"]), as_datetime(f["finished_at"])
        minutes = round((finished - landed).total_seconds() / 60, 2) if landed and finished else None
        limit = pipeline_threshold_minutes(f["source"])
        per_file.append(
            {
                "source": f["source"],
                "file": f["original_name"],
                "sha256": f["sha256"],
                "state": f["state"],
                "reason": f["reason"],
                "landed_to_done_minutes": minutes,
                "threshold_minutes": limit,
                "breached": minutes is not None and minutes > limit,
            }
        )
    return {
        "business_date": day.isoformat(),
        "tasks": tasks,
        "breaches": [
            {k: (str(v) if isinstance(v, (dt.datetime, Decimal)) else v) for k, v in b.items()} for b in breaches
        ],
        "files": per_file,
    }


def breaches_for_day(day: dt.date) -> int:
    with engine_for("ops").connect() as conn:
        return len(query(conn, "ops/sla_breaches_for_day", {"business_date": day}).all())
