"""The whole-file columnar 277 mapping equals the set-by-set mapper's events, row for row, or declines the file.

As for the 835 (test_remittance_columns.py): the set-by-set mapper is the reference, pinned in
test_records_pinned.py; the columnar path must give ``to_table`` of its events or decline, and never map a
file the reference refuses.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.adapters.storage import StagingWriter
from revcycle.domain.canonical import SCHEMAS, to_table, with_lineage
from revcycle.errors import RevcycleError
from revcycle.sources import claim_status as claim_status_source
from revcycle.sources.base import ParseContext
from revcycle.x12 import claim_status_columns, columnar
from revcycle.x12.claim_status import read_claim_status
from tests.conftest import sample_files
from tests.corpus import B277, status_candidates
from tests.unit.sources.test_parse_properties import _mutations
from tests.unit.x12.columnar_cases import agrees_or_declines

EVENTS = claim_status_columns.EVENTS
BIG = 1 << 30
DAY = dt.date(2026, 11, 24)
LINEAGE = {
    "data_source": "claim_status",
    "file_name": "test",
    "ingest_datetime": dt.datetime(2026, 11, 24, 9),
    "business_date": DAY,
}
ISA = "ISA*00*          *00*          *ZZ*1123456789     *ZZ*SYNTHHOSP      *261124*0900*^*00501*{ctl}*0*P*:"


def _set(control: str, version: str, body: list[str]) -> list[str]:
    return [f"ST*277*{control}*{version}", *body, f"SE*{len(body) + 2}*{control}"]


# Every branch of the reference: an STC before the first HL (level ""), each HL level (20/21/19/22/23/PT
# and an unknown code), NM1 PR/41/1P/85/IL/QC (an empty member id keeps the token before it), a trace at
# the receiver and provider levels, TRN*2 claims (two under one HL), REF*1K before and after the first SVC,
# DTP*472 as a range and as one date, claim and line STCs with STC10 and STC11 (STC11 alone numbered 2),
# STC12 free text, SVC01 without a component separator, an empty SVC02, a claim whose line has no date.
RICH_BODY = [
    "BHT*0010*08*R301*20261124*0900*DG",
    "STC*A1:19:PR*20261124",
    "HL*1**20*1",
    "NM1*PR*2*SYNTHETIC PAYER*****PI*1123456789",
    "STC*A0:16*20261124",
    "HL*2*1*21*1",
    "NM1*41*2*SYNTHETIC GENERAL HOSPITAL*****46*SYNTHHOSP",
    "TRN*2*BATCH0001",
    "STC*A1:20:41*20261124**1200.00",
    "HL*3*2*19*1",
    "NM1*85*2*SYNTHETIC GENERAL HOSPITAL*****XX*1999999984",
    "TRN*1*PROVTRACE",
    "STC*A2:20:1P*20261124",
    "HL*4*3*22*0",
    "NM1*IL*1*SYNTHELM*FINLEY****MI*ZZ000000301",
    "TRN*2*PCN0301",
    "STC*F1:65:PR*20261124*WQ*600.00*297.19*20261120*CHK*20261121*CHECK123*F2:88:QC*F3:101*FREE TEXT",
    "REF*1K*ICN0301",
    "DTP*472*RD8*20261103-20261105",
    "SVC*HC:99213*100.00*80.00****1",
    "STC*F1:65*20261124*********F9:99",
    "REF*1K*NOTKEPT",
    "DTP*472*D8*20261104",
    "SVC*99214**0",
    "STC*F2:88*20261124********:*F4:7",
    "TRN*2*PCN0302",
    "STC*F0:3*20261124",
    "DTP*472*RD8*20261101-20261102",
    "SVC*HC:80053*50",
    "STC*F1:65*20261124",
    "HL*5*3*23*0",
    "NM1*QC*1*SYNTHOAK*AVERY****MI*",
    "TRN*2*PCN0303",
    "STC*P1:20*20261124",
    "HL*6*1*19*1",
    "NM1*1P*2*SECOND PROVIDER*****XX*1888888881",
    "HL*7*6*PT*0",
    "NM1*QC*1*SYNTHIVY*BLAKE****MI*ZZ000000777",
    "TRN*2*PCN0304",
    "STC*A3:21*20261124",
    "HL*8*6*ZZ*0",
    "TRN*1*ODDTRACE",
    "STC*A7:562*20261124",
]
SECOND_BODY = [
    "BHT*0010*08*R302*20261124*0900*TH",
    "HL*1**20*1",
    "NM1*PR*2*OTHER PAYER*****PI*1999888777",
    "HL*2*1*21*1",
    "NM1*41*2*SYNTHETIC GENERAL HOSPITAL*****46*SYNTHHOSP",
    "HL*3*2*19*1",
    "NM1*1P*2*SYNTHETIC GENERAL HOSPITAL*****XX*1999999984",
    "HL*4*3*PT*0",
    "NM1*QC*1*SYNTHELM*CASEY****MI*ZZ000000401",
    "TRN*2*PCN0401",
    "STC*A2:20:PR*20261124*U*75.00",
]


def _rich() -> str:
    sets = _set("0001", "005010X212", RICH_BODY) + _set("0002", "005010X214", SECOND_BODY)
    lines = [ISA.format(ctl="000000301"), "GS*HN*1123456789*SYNTHHOSP*20261124*0900*301*X*005010X212", *sets]
    lines += ["GE*2*301", "IEA*1*000000301"]
    return "~\n".join(lines) + "~\n"


RICH = _rich()


def reference_events(path: Path) -> pa.Table:
    events = [e for _, s in read_claim_status(path) for e in s.events]
    for e in events:
        e["category_description"] = e["status_description"] = None
    return to_table(EVENTS, events, LINEAGE)


def columnar_events(path: Path) -> pa.Table | None:
    mapped = claim_status_columns.claim_status_columns(path, BIG)
    if mapped is None:
        return None
    table = mapped.events
    columns = dict(zip(table.column_names, table.columns, strict=True))
    columns["category_description"] = columns["status_description"] = pa.nulls(len(table), pa.string())
    assert int(mapped.set_rows.sum()) == len(table)
    try:  # as the source's parse: a value too long for its column leaves the file to the reference
        return with_lineage(EVENTS, columns, len(table), LINEAGE)
    except (RevcycleError, pa.ArrowInvalid):
        return None


def assert_same(path: Path) -> list[dict]:
    got = columnar_events(path)
    assert got is not None, f"{path.name} was declined"
    assert got.schema == SCHEMAS[EVENTS]
    rows = got.to_pylist()
    assert rows == reference_events(path).to_pylist()
    return rows


def test_rich_file_maps_to_the_same_events(tmp_path):
    path = tmp_path / "rich.277"
    path.write_text(RICH)
    rows = assert_same(path)
    # What the rich file is there to exercise really is in it.
    assert {r["level"] for r in rows} == {
        "",
        "information_source",
        "information_receiver",
        "provider",
        "claim",
        "service_line",
        "unknown",
    }
    assert {r["trace_number"] for r in rows} >= {"BATCH0001", "PROVTRACE", "ODDTRACE"}
    first_claim = [r for r in rows if r["patient_control_number"] == "PCN0301"]
    assert {r["payer_claim_control_number"] for r in first_claim} == {"ICN0301"}
    assert [r["composite_seq"] for r in first_claim[:3]] == [1, 2, 3]
    assert [(r["status_code"], r["composite_seq"]) for r in first_claim if r["stc_seq"] == 6] == [("65", 1), ("99", 2)]
    assert [(r["status_code"], r["composite_seq"]) for r in first_claim if r["stc_seq"] == 7] == [
        ("88", 1),
        (None, 2),
        ("7", 3),
    ]
    assert any(r["has_free_text"] for r in rows) and any(r["member_token"] for r in rows)


def test_corpus_277(tmp_path):
    path = tmp_path / "b.277"
    path.write_text(B277)
    assert_same(path)


@pytest.mark.parametrize("path", sample_files("x12/277"), ids=lambda p: p.name if p else "none")
def test_real_samples_map_the_same_or_are_declined(path):
    got = columnar_events(path)
    if got is None:
        # ISA13 000000001 against IEA02 842928883: the reference refuses it.
        assert path.name == "imsweb__x12_277_x212.txt"
        return
    assert got.to_pylist() == reference_events(path).to_pylist()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from revcycle.synthetic import claim_status_277

    work = tmp_path_factory.mktemp("columnar277")
    (work / "claim_status").mkdir()
    candidates = status_candidates(700)
    claim_status_277.write_277_files(work / "claim_status", work, DAY, random.Random(3), candidates, 700000000)
    return max((work / "claim_status").glob("*.277"), key=lambda p: p.stat().st_size)


def test_generated_file(generated):
    assert len(assert_same(generated)) > 500


@pytest.mark.parametrize(
    "change",
    [
        ("STC*A2:20:PR*20261124*U*75.00", "STC*A2:20:PR*20261124*U*75.001"),  # Arrow refuses the scale
        ("STC*A2:20:PR*20261124*U*75.00", "STC*A2:20:PR*20261124*U*7E1"),  # BAD_NUMBER
        ("STC*A2:20:PR*20261124*U*75.00", "DTP*472*D8*20261124"),  # a set without STC: NO_STATUS
        ("SVC*HC:80053*50", "SVC*HC:80053*50.5.5"),  # an SVC02 that is no number
        ("TRN*2*PCN0302", "TRN*2*" + "P" * 60),  # longer than the column may hold
        ("GE*2*301", "GE*3*301"),  # GE01 wrong
        ("ST*277*0002", "ST\r\n*277*0002"),  # blanks after an id: "ST\r\n" is no ST to the reference
    ],
)
def test_what_the_reference_refuses_is_declined(tmp_path, change):
    old, new = change
    assert old in RICH
    path = tmp_path / "changed.277"
    path.write_text(RICH.replace(old, new, 1))
    with pytest.raises((RevcycleError, pa.ArrowInvalid)):
        reference_events(path)
    assert columnar_events(path) is None


def _stage(path: Path, out_dir: Path, ack_dir: Path):
    ctx = ParseContext("cd" * 32, path.name, DAY, dt.datetime(2026, 11, 24, 9), "claim_status", ack_dir)
    writer = StagingWriter(out_dir)
    result = claim_status_source.parse_277(path, ctx, writer)
    writer.close(list(claim_status_source.DATASETS), SCHEMAS)
    return result


def _staged_both_ways(path: Path, tmp_path: Path, monkeypatch) -> tuple:
    """The parse's result by the default (columnar) path and by the set-by-set path, acks named by file only;
    each staged into its own folder (``fast``, ``slow``)."""
    from revcycle import settings as rc_settings

    fast = _stage(path, tmp_path / "fast", tmp_path / "fast_acks")
    monkeypatch.setenv("REVCYCLE_COLUMNAR_MAX_MB", "0")
    rc_settings.reset_settings()
    try:
        slow = _stage(path, tmp_path / "slow", tmp_path / "slow_acks")
    finally:
        monkeypatch.delenv("REVCYCLE_COLUMNAR_MAX_MB")
        rc_settings.reset_settings()
    fast.acks, slow.acks = [Path(a).name for a in fast.acks], [Path(a).name for a in slow.acks]
    return fast, slow


def test_parse_stages_the_same_file_either_way(generated, tmp_path, monkeypatch):
    fast, slow = _staged_both_ways(generated, tmp_path, monkeypatch)
    assert fast == slow and fast.partition_key == "1123456789"
    name = f"{EVENTS}.parquet"
    assert pq.read_table(tmp_path / "fast" / name).equals(pq.read_table(tmp_path / "slow" / name))
    assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "slow" / name).read_bytes()
    descriptions = pq.read_table(tmp_path / "fast" / name, columns=["category_description"]).column(0)
    assert descriptions.null_count < len(descriptions)


def test_a_file_staged_set_by_set_in_runs_is_the_same(tmp_path, monkeypatch):
    """Each set its own run (staged before the next is mapped): the same staged bytes as the reference's."""
    path = tmp_path / "rich.277"
    path.write_text(RICH)
    monkeypatch.setattr(columnar, "CHUNK_SEGMENTS", 1)
    _, runs = claim_status_columns.claim_status_parts(path, BIG)
    assert len(list(runs)) == 2
    fast, slow = _staged_both_ways(path, tmp_path, monkeypatch)
    assert fast == slow
    name = f"{EVENTS}.parquet"
    assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "slow" / name).read_bytes()


def test_parse_takes_the_columnar_path_by_default(generated, tmp_path, monkeypatch):
    def refuse(*_):
        raise AssertionError("the set-by-set mapper was called")

    monkeypatch.setattr(claim_status_source, "map_claim_status", refuse)
    assert _stage(generated, tmp_path / "out", tmp_path / "acks").control_totals["stc_composites"] > 500


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(_mutations(RICH), _mutations(B277)))
def test_mutated_files_map_the_same_or_are_declined(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("mutated277") / "m.277"
    path.write_bytes(data)
    agrees_or_declines(path, columnar_events, reference_events, pa.Table.to_pylist)
