"""Every 835 and 277 record, pinned: a digest per file of what the mappers emit, field by field.

The digests in ``tests/golden/x12_records.json`` were written by the mappers as they stood before the
single-pass rewrite (bench stage 1 and 2), so the rewrite is proven to emit the same rows, keys, amounts
and order.  Inputs: our synthetic 835 fixtures, and an 835 and a 277 from the day generator with a fixed
seed.  If a deliberate change to the records or the generator moves a digest, rewrite the file with
``REVCYCLE_PIN_WRITE=1 pytest tests/unit/x12/test_records_pinned.py`` and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from revcycle.domain import phi
from revcycle.x12.claim_status import read_claim_status
from revcycle.x12.remittance import read_remittances
from tests.conftest import FIXTURES
from tests.corpus import status_candidates

GOLDEN = Path(__file__).resolve().parents[3] / "tests" / "golden" / "x12_records.json"
DAY = dt.date(2026, 11, 24)


def _digest(record_lists: list[tuple[str, list[dict]]]) -> dict:
    h = hashlib.sha256()
    rows = {}
    for name, records in record_lists:
        rows[name] = rows.get(name, 0) + len(records)
        for record in records:
            h.update(name.encode() + json.dumps(record, sort_keys=True, default=repr).encode() + b"\n")
    return {"rows": rows, "sha256": h.hexdigest()}


def _remittance_records(path: Path) -> dict:
    lists = []
    for _, r in read_remittances(path):
        lists += [
            ("remittance", [r.remittance]),
            ("claim_payment", r.claim_payments),
            ("service_line_payment", r.service_line_payments),
            ("adjustment", r.adjustments),
            ("provider_adjustment", r.provider_adjustments),
            ("remark", r.remarks),
        ]
    return _digest(lists)


def _status_records(path: Path) -> dict:
    return _digest([("claim_status_event", s.events) for _, s in read_claim_status(path)])


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    from revcycle.synthetic import claim_status_277
    from revcycle.synthetic.day import generate_day

    work = tmp_path_factory.mktemp("pinned")
    generate_day(work, DAY, 400, 11, supply_messages=5)
    candidates = status_candidates(300)
    claim_status_277.write_277_files(work / "claim_status", work, DAY, random.Random(3), candidates, 700000000)
    return {
        "835": max((work / "remittance").glob("*.835"), key=lambda p: p.stat().st_size),
        "277": max((work / "claim_status").glob("*.277"), key=lambda p: p.stat().st_size),
    }


def _cases(generated: dict[str, Path]) -> dict[str, dict]:
    cases = {f"fixture/{p.name}": _remittance_records(p) for p in sorted((FIXTURES / "x12" / "835").glob("*.835"))}
    cases["generated/835"] = _remittance_records(generated["835"])
    cases["generated/277"] = _status_records(generated["277"])
    return cases


def test_records_match_the_pinned_digests(generated, monkeypatch):
    monkeypatch.setenv("REVCYCLE_TOKEN_KEY", "pinned-token-key")
    phi.reset_token_key()
    try:
        got = _cases(generated)
    finally:
        phi.reset_token_key()
    if os.environ.get("REVCYCLE_PIN_WRITE") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert {k: v["rows"] for k, v in got.items()} == {k: v["rows"] for k, v in want.items()}
    assert got == want
