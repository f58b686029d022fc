"""The reconciliation reads the lake and writes its extracts column by column (a cumulative day reaches
hundreds of thousands of rows): both give exactly what the row-by-row forms gave."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revcycle.adapters.db import as_date
from revcycle.jobs import finance_extracts as extracts
from revcycle.jobs.reconciliation import python_frame

D = Decimal


def row_by_row(value: object, kind: pa.DataType) -> object:
    """The extract's cell rule as it was written for one cell at a time."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if pa.types.is_decimal(kind):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-kind.scale))
    if pa.types.is_date(kind):
        return as_date(value)
    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_boolean(kind):
        return bool(value)
    return str(value)


VALUES = {
    pa.decimal128(18, 2): [
        None,
        math.nan,
        np.float64("nan"),
        D("1.5"),
        D("-0.001"),
        D("12345678.905"),
        7,
        0.1,
        "3.14159",
    ],
    pa.decimal128(18, 4): [None, D("1.23456"), D("2"), 3],
    pa.date32(): [None, dt.date(2026, 11, 24), "2026-11-25", dt.datetime(2026, 11, 26, 10, 30)],
    pa.int64(): [None, 3, np.int64(4), 5.0, math.nan],
    pa.bool_(): [None, True, False, np.bool_(True), 0, 1],
    pa.string(): [None, "0012345678", 12, D("1.50"), math.nan, "é"],
}


@pytest.mark.parametrize("kind", list(VALUES), ids=str)
def test_a_column_of_cells_is_the_row_by_row_rule_applied_to_each(kind):
    values = VALUES[kind]
    got = extracts._cells(values, kind)
    want = [row_by_row(v, kind) for v in values]
    assert got == want
    assert [type(v) for v in got] == [type(v) for v in want]
    assert [str(v) for v in got] == [str(v) for v in want]  # the same exponent, not only the same number


def test_every_extract_writes_the_same_cells_from_a_frame_missing_a_column(rc_home):
    frame = pd.DataFrame({"payer_id": ["P1", None], "payment_amount": [D("1.5"), math.nan]}).astype(object)
    info = extracts.write("cash", frame, dt.date(2026, 11, 24), [], {})
    table = pq.read_table(info["parquet_path"])
    assert table.column("payer_id").to_pylist() == ["P1", None]
    assert table.column("payment_amount").to_pylist() == [D("1.50"), None]
    assert table.column("status").to_pylist() == [None, None]  # a column the frame lacks: no value
    assert info["row_count"] == 2


def test_a_lake_table_becomes_the_frame_its_rows_would_make():
    table = pa.table(
        {
            "claim_payment_key": pa.array(["k1", "k2", None, "k4"]),
            "paid_amount": pa.array([D("1.00"), None, D("-2.50"), D("0.00")], pa.decimal128(18, 2)),
            "claim_seq": pa.array([1, 2, None, 4], pa.int32()),
            "is_reversal": pa.array([False, True, None, False]),
            "received_date": pa.array([dt.date(2026, 11, 24), None, dt.date(2026, 11, 25), None], pa.date32()),
            "ratio": pa.array([0.5, None, 1.5, 2.0]),
        }
    )
    pd.testing.assert_frame_equal(python_frame(table), pd.DataFrame(table.to_pylist()), check_exact=True)
    empty = table.slice(0, 0)
    assert list(python_frame(empty).columns) == table.column_names  # no rows: the columns are still named
