"""What a file's parse and validation cost grows with: writes per row group, not per transaction set, and
expectations, not rows (GX would otherwise hash every row of every frame for a batch marker)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq

from revcycle.adapters.storage import StagingWriter
from revcycle.adapters.validation import validate_frames
from revcycle.domain.canonical import SCHEMAS, to_table

LINEAGE = {
    "data_source": "remittance",
    "file_name": "f" * 64,
    "ingest_datetime": dt.datetime(2026, 11, 24, 8),
    "business_date": dt.date(2026, 11, 24),
}


def _provider_adjustments(start: int, n: int) -> list[dict]:
    return [
        {
            "provider_adjustment_key": f"{i:032x}",
            "remittance_key": "r" * 32,
            "plb_seq": i,
            "pair_seq": 1,
            "provider_identifier": "1999999976",
            "fiscal_period_date": dt.date(2026, 12, 31),
            "reason_code": "WO",
            "reference": None,
            "amount": Decimal("1.25"),
        }
        for i in range(start, start + n)
    ]


def test_small_batches_are_written_as_few_row_groups_with_every_row_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(StagingWriter, "ROW_GROUP", 1000)
    writer = StagingWriter(tmp_path / "stage")
    for batch in range(50):  # 50 transaction sets of 70 rows each
        writer.write(
            "canonical__provider_adjustment",
            to_table(name := "canonical__provider_adjustment", _provider_adjustments(batch * 70, 70), LINEAGE),
        )
    writer.close([name], SCHEMAS)
    meta = pq.ParquetFile(tmp_path / "stage" / f"{name}.parquet").metadata
    assert meta.num_rows == writer.rows[name] == 3500
    assert meta.num_row_groups == 4  # 1050 + 1050 + 1050 + 350, not one group per set
    table = pq.read_table(tmp_path / "stage" / f"{name}.parquet")
    assert table.column("plb_seq").to_pylist() == list(range(3500))  # order kept across groups


def test_an_aborted_writer_leaves_nothing_even_with_batches_waiting(tmp_path):
    writer = StagingWriter(tmp_path / "stage")
    writer.write(
        "canonical__provider_adjustment",
        to_table("canonical__provider_adjustment", _provider_adjustments(0, 3), LINEAGE),
    )
    writer.abort()
    assert not (tmp_path / "stage").exists()


def test_validation_never_hashes_the_rows(monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    hashed = []
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", lambda df: hashed.append(len(df)) or "x")
    frame = pd.DataFrame(
        {"provider_adjustment_key": [f"{i:032x}" for i in range(500)], "amount": [Decimal("1.25")] * 500}
    )
    outcome = validate_frames({"canonical__provider_adjustment": frame}, dt.date(2026, 11, 24))
    assert hashed == []
    assert 0 < outcome.gx_seconds < 60  # GX's own time, which the GX share of a day counts


def test_validation_reads_only_the_columns_its_suites_check_or_filter_on():
    from revcycle.adapters.validation import suite_columns

    adjustment = suite_columns("canonical__adjustment", SCHEMAS["canonical__adjustment"].names)
    assert adjustment == ["adjustment_key", "group_code", "reason_code"]  # no decimal column turned into Decimals
    # check__balance filters each expectation on ``level`` (row_condition): that column is read too.
    assert suite_columns("check__balance", SCHEMAS["check__balance"].names) == ["level", "difference_cents"]


def test_a_suite_with_a_table_level_expectation_reads_every_column(tmp_path, monkeypatch):
    import json

    from revcycle.adapters import validation

    (tmp_path / "t.json").write_text(
        json.dumps({"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]})
    )
    monkeypatch.setattr(validation, "EXPECTATIONS_DIR", tmp_path)
    assert validation.suite_columns("t", ["a", "b"]) is None
