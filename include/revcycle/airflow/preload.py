"""Warm a forking parent's imports, so every task process it forks starts with them loaded.

Airflow runs each task try in a process forked from its worker (a Celery or LocalExecutor worker, then
the task supervisor), so what the worker imported before forking is already in memory in every task.
Great Expectations takes about 2 s to import and every validate task needs it; bench stage 5 measures the
difference.  ``revcycle.adapters.validation`` is the module to name: its ``warm_up()`` also creates the GX context
and runs one tiny suite, so the parts GX loads on first use are loaded too.
Set ``REVCYCLE_PRELOAD=revcycle.adapters.validation`` on the workers only (docker-compose.yaml does):
on the scheduler, API server or DAG processor it would cost memory and start-up for nothing.
``include/airflow_local_settings.py`` calls ``preload()``; Airflow imports that module in each process.
"""

from __future__ import annotations

import gc
import importlib

ENV = "REVCYCLE_PRELOAD"


def preload(names: str | None = None) -> list[str]:
    """Import each comma-separated module name (default: ``$REVCYCLE_PRELOAD``) and call its ``warm_up()``
    if it has one; return the names imported."""
    from revcycle.settings import get_settings

    raw = get_settings().preload if names is None else names
    loaded = []
    for name in (n.strip() for n in raw.split(",")):
        if not name:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{ENV} names {name!r}, which cannot be imported: {exc}") from exc
        warm_up = getattr(module, "warm_up", None)
        if callable(warm_up):
            warm_up()
        loaded.append(name)
    if loaded:
        # What the worker loaded lives as long as it: out of the collector's sight, so a full collection in a
        # forked task does not walk GX's and Airflow's objects (0.1-0.6 s each time; bench/HISTORY.md, issue 19)
        # nor write to their pages, which would copy them into every task process.
        gc.freeze()
    return loaded
