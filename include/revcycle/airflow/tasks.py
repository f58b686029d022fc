"""Thin bodies for Airflow tasks: read the run's business date, call one package function.

Kept apart from the DAG files so DAG parsing imports nothing heavy: every
import of pipeline code happens inside the task at run time.
"""

from __future__ import annotations

import datetime as dt


def business_date_of(context: dict) -> dt.date:
    """The business day a run processes: its logical date, else the day it was triggered for."""
    params = context.get("params") or {}
    if params.get("business_date"):
        return dt.date.fromisoformat(str(params["business_date"]))
    # Asset-triggered runs: the business day the upstream runs published (their outlet event extra).
    days = [
        str(e.extra["business_date"])
        for events in (context.get("triggering_asset_events") or {}).values()
        for e in events
        if (getattr(e, "extra", None) or {}).get("business_date")
    ]
    if days:
        return dt.date.fromisoformat(max(days))
    dag_run = context.get("dag_run")
    when = context.get("logical_date") or getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    day = when.date() if when is not None else dt.date.today()
    return dt.date(day.year, day.month, day.day)  # a plain date, not pendulum's subclass


def record_business_date(context: dict, day: dt.date, extras: dict[str, dict] | None = None) -> None:
    """Put the business day on every outlet event of the task, for asset-scheduled DAGs downstream, with what
    the UI's asset events should tell about it (``extras`` by asset name: file counts, rows, totals)."""
    events = context.get("outlet_events")
    for asset in getattr(context.get("task"), "outlets", None) or []:
        if events is not None:
            events[asset].extra = {"business_date": day.isoformat(), **(extras or {}).get(asset_name(asset), {})}


def asset_name(asset: object) -> str:
    """An Asset's dataset name: the last part of its URI (``.../lake/canonical__remittance``)."""
    return str(getattr(asset, "uri", asset)).rstrip("/").rsplit("/", 1)[-1]
