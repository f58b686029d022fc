"""How revcycle renders its pages (the audit report, the work queue, the dashboards): Jinja2 templates,
autoescaped, strict about missing values, with the number formats every page shares.  Light to import: the
Airflow plugin loads it in every Airflow process."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import jinja2


def money(value: object) -> str:
    """An amount with thousands separators and cents; empty for no value."""
    return "" if value in (None, "") else f"{Decimal(str(value)):,.2f}"


def environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, label=lambda name: str(name).replace("_", " "))
    return env
