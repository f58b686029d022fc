"""Property tests: whatever bytes arrive, the X12 and HL7 paths end in a project error or a result, never
another exception and never a hang.

Examples are mutations of the corpus's good files (bytes replaced, inserted, deleted, duplicated, cut,
delimiters swapped, numbers and unicode digits spliced in) and free-form text built from X12 and HL7
fragments; each goes through the real parse path of its source (``stage_file``: reader, mapper, Arrow
staging).  CI runs a few hundred examples per property; ``pytest -m nightly`` runs 10,000 each.
"""

from __future__ import annotations

import datetime as dt
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.adapters.lake import Lake
from revcycle.errors import RevcycleError
from revcycle.pipeline.stage import stage_file
from revcycle.sources.base import ParseContext
from revcycle.sources.registry import get_source
from tests.corpus import B277, B835, B999, HL7

CI_EXAMPLES, NIGHTLY_EXAMPLES = 300, 10_000
SECONDS_PER_EXAMPLE = 10  # a hang guard: no example of a few KB may take this long
GOOD_HL7 = dict((name, text) for name, text, _, _ in HL7)["good"]

FRAGMENTS = [
    "ISA",
    "GS",
    "ST",
    "SE",
    "GE",
    "IEA",
    "CLP",
    "SVC",
    "CAS",
    "PLB",
    "BPR",
    "TRN",
    "STC",
    "HL",
    "*",
    "~",
    ":",
    "^",
    "|",
    "\r\n",
    "\n",
    " ",
    "0",
    "1",
    "9",
    "-",
    ".",
    "E",
    "\u00b2",
    "\uff11",
    "_",
    "+",
    "\x00",
    "\ufeff",
    "MSH|^~\\&|",
    "FT1|",
    "PID|",
    "\r",
    "1E400",
    "99999999999999999999",
    "HC:99213",
]


def _mutations(base: str) -> st.SearchStrategy[bytes]:
    data = base.encode()

    @st.composite
    def mutate(draw) -> bytes:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            kind = draw(st.sampled_from(["replace", "insert", "delete", "cut", "fragment", "repeat"]))
            at = draw(st.integers(0, max(len(out) - 1, 0)))
            if kind == "replace" and out:
                out[at] = draw(st.integers(0, 255))
            elif kind == "insert":
                out[at:at] = draw(st.binary(min_size=1, max_size=8))
            elif kind == "delete":
                del out[at : at + draw(st.integers(1, 40))]
            elif kind == "cut":
                del out[at:]
            elif kind == "fragment":
                out[at:at] = draw(st.sampled_from(FRAGMENTS)).encode()
            else:
                end = min(len(out), at + draw(st.integers(1, 200)))
                out[at:at] = out[at:end] * draw(st.integers(1, 5))
        return bytes(out)

    return mutate()


FREE_FORM = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=80).map(
    lambda p: "".join(p).encode("utf-8", "surrogatepass")
)


@contextmanager
def _deadline(seconds: int):
    def expired(*_):
        raise TimeoutError(f"an example took longer than {seconds}s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _parse(source_name: str, data: bytes, suffix: str) -> None:
    """The source's real parse into a throwaway staging area; only a project error may come out."""
    source = get_source(source_name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in{suffix}"
        path.write_bytes(data)
        ctx = ParseContext(
            sha256="prop",
            original_name=path.name,
            business_date=dt.date(2026, 11, 24),
            landed_at=dt.datetime(2026, 11, 24),
            data_source=source_name,
            ack_dir=None,
        )
        with _deadline(SECONDS_PER_EXAMPLE):
            try:
                stage_file(source, path, ctx, Lake(Path(tmp) / "lake"))
            except RevcycleError:
                pass


PROPERTIES = [
    ("remittance", _mutations(B835) | FREE_FORM, ".835"),
    ("claim_status", _mutations(B277) | FREE_FORM, ".277"),
    ("payer_acks", _mutations(B999) | FREE_FORM, ".999"),
    ("supply_usage", _mutations(GOOD_HL7) | FREE_FORM, ".hl7"),
]


def _check(source_name: str, strategy, suffix: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(data: bytes) -> None:
        _parse(source_name, data, suffix)

    run()


@pytest.mark.parametrize("source_name,strategy,suffix", PROPERTIES, ids=[p[0] for p in PROPERTIES])
def test_any_bytes_end_in_a_result_or_a_project_error(rc_home, source_name, strategy, suffix):
    _check(source_name, strategy, suffix, CI_EXAMPLES)


@pytest.mark.nightly
@pytest.mark.parametrize("source_name,strategy,suffix", PROPERTIES, ids=[p[0] for p in PROPERTIES])
def test_any_bytes_end_in_a_result_or_a_project_error_nightly(rc_home, source_name, strategy, suffix):
    _check(source_name, strategy, suffix, NIGHTLY_EXAMPLES)
