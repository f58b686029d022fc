"""PostgreSQL: a posting that grows an ERP table by a tenth or more leaves the planner its statistics.

Without them the next DAG's query meets a table the planner takes for a few hundred rows (never analysed:
autovacuum comes later, or never where it is off) and may choose a plan that scans it once per row of
another: the 276 inquiry selection took 133.8 s on the second 142,858-claim day of a cluster week."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from revcycle.adapters import erp
from revcycle.adapters.db import engine_for
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)
GROWN = ("cash_receipt", "receipt_application", "journal_line")


def planner_rows(table: str) -> float:
    with engine_for("erp").connect() as conn:
        return conn.execute(
            text(
                "select c.reltuples from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
                "where n.nspname = 'erp' and c.relname = :t"
            ),
            {"t": table},
        ).scalar()


def rows(table: str) -> int:
    with engine_for("erp").connect() as conn:
        return conn.execute(text(f"select count(*) from erp.{table}")).scalar()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_posting_that_grows_a_table_analyses_it_and_a_replay_does_not(backend):
    generate_day(get_settings().inbound, DAY, 300, 5, supply_messages=10)
    assert {r["state"] for r in run_source("remittance", DAY).values()} == {"posted"}
    for table in GROWN:
        assert rows(table) > 0
        assert planner_rows(table) == rows(table), table  # analysed after the posting's commit

    # A growth under a tenth of what the planner knows is left to autovacuum; a tenth or more is analysed.
    assert erp.refresh_statistics({"receipt_application": rows("receipt_application") // 20}) == []
    assert erp.refresh_statistics({"receipt_application": rows("receipt_application") // 5, "cash_receipt": 0}) == [
        "receipt_application"
    ]
