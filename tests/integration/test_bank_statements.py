"""The bank side of cash reconciliation from the formats banks send: the same synthetic day with its deposits
as the CSV report, as BAI2 and as camt.053 gives the same deposit lines, the same cash extract and the same
exception queue; a statement that does not add up is quarantined with its reason and nothing is published."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from revcycle.adapters import ledger
from revcycle.jobs import reconciliation
from revcycle.settings import get_settings
from revcycle.synthetic import bank_statements
from revcycle.synthetic.day import generate_day
from tests.conftest import use_home
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)
SOURCES = ("open_items", "remittance", "bank_deposits", "claim_status", "supply_usage", "supplier_invoices")


def reconcile_with(kind: str) -> tuple[list[dict], set, dict]:
    s = get_settings()
    generate_day(s.inbound, DAY, 120, 21, supply_messages=30)
    bank = s.inbound / "bank" / f"deposits_{DAY:%Y%m%d}.csv"
    if kind != "csv":
        bank_statements.convert(bank, kind)
    for source in SOURCES:
        states = {r["state"] for r in run_source(source, DAY).values()}
        assert states == {"posted"}, (kind, source, states)
    reconciliation.run(DAY)
    run = reconciliation.recorded_runs(DAY)["cash"]
    with open(run["csv_path"], encoding="utf-8-sig", newline="") as fh:
        cash = list(csv.DictReader(fh))
    queue = {(i["category"], i["reference"], str(i["amount_at_stake"])) for i in reconciliation.open_items()}
    [deposit_file] = [r for r in ledger.for_day(DAY) if r["source"] == "bank_deposits"]
    return cash, queue, deposit_file


def test_csv_bai2_and_camt053_reconcile_the_same(tmp_path, monkeypatch):
    results = {}
    for kind in ("csv", "bai2", "camt053"):
        use_home(monkeypatch, tmp_path / kind)
        results[kind] = reconcile_with(kind)
    cash, queue, deposits = results["csv"]
    assert len(cash) > 3 and any(r["status"] == "split_deposit_matched" for r in cash)
    for kind in ("bai2", "camt053"):
        assert results[kind][0] == cash, kind
        assert results[kind][1] == queue, kind
        totals = json.loads(results[kind][2]["control_totals"])
        assert totals["format"] == kind and totals["amount"] == json.loads(deposits["control_totals"])["amount"]


@pytest.mark.parametrize(
    ("kind", "mutate", "reason"),
    [
        ("bai2", lambda t: t.replace("/\n99,", "/\n99,1", 1), "BAI_CONTROL_TOTAL"),
        (
            "camt053",
            lambda t: t.replace(
                '<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">', '<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1'
            ),
            "CAMT_BALANCE",
        ),
    ],
)
def test_a_statement_that_does_not_add_up_is_quarantined(rc_home, kind, mutate, reason):
    s = get_settings()
    generate_day(s.inbound, DAY, 40, 5, supply_messages=10)
    path = bank_statements.convert(s.inbound / "bank" / f"deposits_{DAY:%Y%m%d}.csv", kind)
    path.write_text(mutate(path.read_text()))
    [row] = run_source("bank_deposits", DAY).values()
    assert (row["state"], row["reason"]) == ("quarantined", reason)
    assert not list(s.lake.rglob("*.parquet"))  # nothing published


@pytest.mark.parametrize("kind", ["bai2", "camt053"])
def test_inspect_reads_bank_statements(rc_home, kind, tmp_path):
    from click.testing import CliRunner

    from revcycle.cli.main import main

    s = get_settings()
    generate_day(s.inbound, DAY, 40, 5, supply_messages=10)
    path = bank_statements.convert(s.inbound / "bank" / f"deposits_{DAY:%Y%m%d}.csv", kind)
    good = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["rows"]["canonical__bank_deposit"] > 3
    path.write_text(path.read_text().replace("TRN*1*", "TRN*1*", 1)[:-40])
    bad = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert bad.exit_code == 2 and json.loads(bad.output)["quarantine"]["reason"] in ("BAI_SYNTAX", "CAMT_SYNTAX")
