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
    dag_run = context.get("dag_run")
    when = context.get("logical_date") or getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    day = when.date() if when is not None else dt.date.today()
    return dt.date(day.year, day.month, day.day)  # a plain date, not pendulum's subclass
