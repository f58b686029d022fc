"""The finance folder of a day as finance reads it: CSV and Parquet of each extract, schema.json whose pandas
arguments keep identifiers as text and amounts as Decimal, and control totals that say pass or fail."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq

from revcycle.jobs import finance_extracts as extracts

DAY = dt.date(2026, 11, 24)
D = Decimal


def read_documented(folder, name: str) -> pd.DataFrame:
    """Exactly the recipe the module docstring and docs/finance-extracts.md give."""
    meta = json.loads((folder / "schema.json").read_text())["extracts"][name]["pandas"]
    return pd.read_csv(
        folder / f"{name}.csv",
        encoding="utf-8-sig",
        dtype=meta["dtype"],
        parse_dates=meta["dates"],
        converters={c: (lambda v: Decimal(v) if v else None) for c in meta["decimals"]},
    )


def cash_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "payer_id": "0012345678",
                "payer_name": "ACME HEALTH PLAN",
                "trace_number": "000123",
                "payment_date": DAY,
                "payment_amount": D("1234567.89"),
                "deposit_count": 1,
                "deposit_amount": D("1234567.89"),
                "first_deposit_date": DAY,
                "erp_receipt_amount": D("1234567.89"),
                "difference": D("0.00"),
                "status": "matched",
                "remittance_key": "0" * 32,
            },
            {
                "payer_id": "0099",
                "payer_name": None,
                "trace_number": "T9",
                "payment_date": None,
                "payment_amount": None,
                "deposit_count": 2,
                "deposit_amount": D("0.10"),
                "first_deposit_date": DAY,
                "erp_receipt_amount": None,
                "difference": D("0.10"),
                "status": "deposit_without_remittance",
                "remittance_key": None,
            },
        ]
    ).astype(object)


def test_csv_read_with_the_documented_types_keeps_identifiers_and_exact_amounts(rc_home):
    frame = cash_frame()
    ties = extracts.control_totals("cash", frame, {"payment_amount": ("source", [D("1234567.89")])})
    extracts.write("cash", frame, DAY, ties, {})
    extracts.write_day_files(DAY, ties)
    folder = extracts.finance_folder(DAY)
    assert {p.name for p in folder.iterdir()} >= {"cash.csv", "cash.parquet", "control_totals.csv", "schema.json"}

    got = read_documented(folder, "cash")
    assert list(got["payer_id"]) == ["0012345678", "0099"]  # leading zeros kept
    assert list(got["trace_number"]) == ["000123", "T9"]
    assert got["payment_amount"][0] == D("1234567.89") and isinstance(got["payment_amount"][0], Decimal)
    assert got["payment_amount"][1] is None and got["deposit_amount"][1] == D("0.10")
    assert got["deposit_count"].dtype == "Int64" and got["payment_date"].dtype.kind == "M"
    assert got["payer_name"][0] == "ACME HEALTH PLAN" and pd.isna(got["payer_name"][1])
    # The Parquet beside the CSV holds the same rows with their Arrow types.
    table = pq.read_table(folder / "cash.parquet")
    assert str(table.schema.field("payment_amount").type) == "decimal128(18, 2)"
    assert table.column("payer_id").to_pylist() == ["0012345678", "0099"]
    # schema.json documents every column of every extract with a type and a meaning.
    doc = json.loads((folder / "schema.json").read_text())
    for name, schema in extracts.EXTRACTS.items():
        columns = doc["extracts"][name]["columns"]
        assert [c["name"] for c in columns] == schema.names
        assert all(c["type"] and c["meaning"] for c in columns)


def test_control_totals_pass_fail_and_no_source(rc_home):
    frame = cash_frame()
    ties = extracts.control_totals(
        "cash",
        frame,
        {
            "payment_amount": ("835 payments", [D("1234567.89")]),
            "deposit_amount": ("bank deposits", [D("1234567.89"), D("0.09")]),
        },
    )
    extracts.write_day_files(DAY, ties)
    rows = pd.read_csv(extracts.finance_folder(DAY) / "control_totals.csv", encoding="utf-8-sig", dtype=str)
    by_column = {r["column"]: r for r in rows.to_dict("records")}
    assert set(by_column) == {"payment_amount", "deposit_amount", "erp_receipt_amount", "difference"}
    assert by_column["payment_amount"]["tie_out"] == "pass"
    assert (by_column["deposit_amount"]["tie_out"], by_column["deposit_amount"]["difference"]) == ("fail", "0.01")
    assert by_column["difference"]["tie_out"] == "no source" and by_column["difference"]["extract_total"] == "0.10"
    assert set(rows["rows"]) == {"2"}


def test_the_docs_page_lists_every_column_with_its_type():
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "finance-extracts.md").read_text()
    for name, (_, columns) in extracts.CONTRACTS.items():
        assert f"## {name}" in page
        for column, kind, _ in columns:
            assert f"| `{column}` | `{kind}` |" in page, (name, column)
