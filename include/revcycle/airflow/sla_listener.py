"""Airflow listener: every task instance try's latency recorded and checked against its SLA.

Loaded by ``plugins/revcycle_sla.py``.  Runs in the task's own process (and in
``dag.test()``'s), after the task ends; it never raises into Airflow.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)


def _record(task_instance: object, state: str) -> None:
    try:
        from revcycle.airflow.tasks import business_date_of
        from revcycle.jobs import sla

        try:
            day = business_date_of(task_instance.get_template_context())
        except Exception:  # noqa: BLE001 - an API-side instance has no runtime context
            day = None
        end = dt.datetime.now(dt.UTC)
        start = getattr(task_instance, "start_date", None) or end
        sla.record_task(
            dag_id=task_instance.dag_id,
            task_id=task_instance.task_id,
            run_id=task_instance.run_id,
            map_index=-1 if getattr(task_instance, "map_index", None) is None else int(task_instance.map_index),
            try_number=int(getattr(task_instance, "try_number", 1) or 1),
            business_date=day,
            state=state,
            started_at=start,
            ended_at=end,
        )
    except Exception:
        log.warning("task latency not recorded", exc_info=True)


@hookimpl
def on_task_instance_success(previous_state: object, task_instance: object) -> None:
    _record(task_instance, "success")


@hookimpl
def on_task_instance_failed(previous_state: object, task_instance: object, error: object) -> None:
    _record(task_instance, "failed")
