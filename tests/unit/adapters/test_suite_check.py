"""``revcycle.adapters.suite_check`` (what ``inspect`` validates with, without loading Great Expectations) held
to GX itself: for every suite of ``expectations/``, on the staged tables of every source's files and on copies
made to break each rule, both give the same success, element count and unexpected count for every
expectation.  And ``inspect`` loads no GX, no Airflow, no SQLAlchemy and no FHIR models for a file that needs
none of them."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from revcycle.adapters.lake import Lake
from revcycle.adapters.validation import validate_frames
from revcycle.jobs.inspect import detect
from revcycle.pipeline.stage import stage_file, staged_frames
from revcycle.settings import EXPECTATIONS_DIR
from revcycle.sources.base import ParseContext
from revcycle.synthetic.day import generate_day
from revcycle.synthetic.identities import PAYERS
from revcycle.x12.acknowledgement import GroupResult, SetResult, write_999
from revcycle.x12.reader import X12Reader

DAY = dt.date(2026, 11, 24)
FIXTURES = Path(__file__).parents[2] / "fixtures"


def _outcomes(frames: dict[str, pd.DataFrame], gx: bool) -> list[tuple]:
    return [
        (o.dataset, o.expectation, o.column, o.success, o.element_count, o.unexpected_count, o.raised_exception)
        for o in validate_frames(frames, DAY, gx).outcomes
    ]


def _files(root: Path) -> list[Path]:
    """A small synthetic day's files of every kind (its FHIR exports joined as the transport lands them), and the
    835 fixtures, the unbalanced one among them."""
    generate_day(root, DAY, 60, 3, fhir_payers=(PAYERS[2].payer_id,), fhir_ehr_share=0.5)
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and "_manifest" not in p.parts and "fhir_" not in str(p)]
    for name, folder in (("payer", root / "fhir_payer"), ("ehr", root / "fhir_ehr")):
        export = root / f"export_{name}.ndjson"
        export.write_bytes(b"".join(p.read_bytes() for p in sorted(folder.rglob("*.ndjson"))))
        files.append(export)
    return files + sorted((FIXTURES / "x12" / "835").glob("*.835")) + [_ack(root / "answer.999")]


def _ack(target: Path) -> Path:
    """A payer's 999 to one of the 835 fixtures: its first set accepted, the others rejected."""
    with open(FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835", "rb") as fh:
        reader = X12Reader(fh)
        for _ in reader:
            pass
    isa = reader.interchanges[0]
    groups = []
    for gs in isa.groups:
        group = GroupResult(gs.functional_id, gs.control_number, gs.version)
        group.sets = [
            SetResult("835", st02, n == 0, None if n == 0 else "5") for n, st02 in enumerate(gs.transaction_set_ids)
        ]
        groups.append(group)
    buf = io.StringIO()
    write_999(buf, isa, groups, isa.receiver_id, 7, dt.datetime(2026, 11, 24, 8))
    target.write_text(buf.getvalue())
    return target


def _broken(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Copies of the frame that break what a suite checks: a repeated row, a missing value, a value out of
    any set, a number out of any range, for each column in turn."""
    if frame.empty:
        return []
    out = [pd.concat([frame, frame.iloc[:1]], ignore_index=True)]
    for column in frame.columns:
        present = frame[column].dropna()
        sample = present.iloc[0] if len(present) else None
        # A value of the column's own type (what a staged Parquet column can hold), or missing.
        if isinstance(sample, bool):
            values = [None, not sample]
        elif isinstance(sample, str):
            values = [None, "ZZ-NOT-A-CODE"]
        elif isinstance(sample, Decimal):
            values = [None, Decimal("-999999.99"), Decimal("0.01")]
        elif isinstance(sample, dt.date):
            values = [None, dt.date(1900, 1, 1), dt.date(2999, 12, 31)]
        elif sample is not None:
            values = [None, -1, 10**9]
        else:
            values = [None]
        for value in values:
            copy = frame.copy()
            copy[column] = copy[column].astype(object)
            copy.loc[copy.index[0], column] = value
            out.append(copy)
    return out


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> list[dict[str, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("day")
    frames = []
    for path in _files(root / "inbound"):
        _, source, refusal = detect(path)
        if source is None or refusal is not None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            lake = Lake(Path(tmp))
            ctx = ParseContext("suite", path.name, DAY, dt.datetime(2026, 11, 24), source.name, None)
            try:
                stage_file(source, path, ctx, lake)
            except Exception:  # noqa: BLE001 - a file its parse refuses never reaches validation
                continue
            frames.append(staged_frames(source, lake, "suite"))
    return frames


def test_every_suite_is_exercised(staged):
    names = {name for frames in staged for name in frames}
    suites = {p.stem for p in EXPECTATIONS_DIR.glob("*.json")}
    assert suites <= names, suites - names


def test_the_same_outcomes_as_gx_on_every_source_s_staged_tables(staged):
    compared = failed = 0
    for frames in staged:
        ours, theirs = _outcomes(frames, gx=False), _outcomes(frames, gx=True)
        assert ours == theirs
        compared += len(ours)
        failed += sum(1 for o in ours if not o[3])
    assert compared > 100 and failed > 0  # the unbalanced fixture and the seeded breaks fail something


def test_the_same_outcomes_as_gx_on_tables_made_to_break_each_rule(staged):
    rng = random.Random(5)
    compared = failed = raised = 0
    for frames in staged:
        for name, frame in frames.items():
            variants = _broken(frame)
            for variant in rng.sample(variants, min(len(variants), 12)) + [frame.iloc[:0], frame.iloc[:, 1:]]:
                ours, theirs = _outcomes({name: variant}, gx=False), _outcomes({name: variant}, gx=True)
                assert ours == theirs, (name, list(variant.columns))
                compared += len(ours)
                failed += sum(1 for o in ours if not o[3])
                raised += sum(1 for o in ours if o[6])
    assert compared > 1000 and failed > 100 and raised > 10


def test_inspect_loads_no_heavy_library_a_file_does_not_need(tmp_path):
    """The guard: a one-claim 835 through ``revcycle inspect`` imports no GX, Airflow, SQLAlchemy or FHIR models
    (an import that creeps back into the verbs that need none makes this fail)."""
    probe = (
        "import sys, json\n"
        "from revcycle.cli.main import main\n"
        "try:\n"
        "    main(['inspect', sys.argv[1], '--json'])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = ('great_expectations', 'airflow', 'sqlalchemy', 'fhir', 'pydantic', 'hl7apy', 'boto3', 'authlib')\n"
        "print(json.dumps({'code': code, 'loaded': sorted({m.split('.')[0] for m in sys.modules} & set(heavy))}))\n"
    )
    fixture = FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835"
    out = subprocess.run(
        [sys.executable, "-c", probe, str(fixture)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"REVCYCLE_HOME": str(tmp_path), "REVCYCLE_TOKEN_KEY": "suite-check-token-key", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}
