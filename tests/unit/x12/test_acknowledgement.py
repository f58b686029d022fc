"""999 and TA1 acknowledgements: built by us, read back by the same reader."""

from __future__ import annotations

import datetime as dt
import io

from revcycle.errors import X12Error
from revcycle.sources.x12_acks import write_acks
from revcycle.x12.reader import X12Reader
from tests.conftest import FIXTURES

FIX = FIXTURES / "x12" / "835"
WHEN = dt.datetime(2026, 11, 20, 8, 0)


def read_all(data: bytes) -> tuple[X12Reader, X12Error | None]:
    reader = X12Reader(io.BytesIO(data))
    try:
        for _ in reader:
            pass
    except X12Error as exc:
        return reader, exc
    return reader, None


def segs(path) -> list[list[str]]:
    return list(X12Reader(open(path, "rb")))


def test_999_per_interchange_accepting_every_set(tmp_path):
    reader, err = read_all(FIX.joinpath("two-interchanges-different-delimiters.835").read_bytes())
    assert err is None
    paths = write_acks(reader, "a" * 64, WHEN, tmp_path)
    assert len(paths) == 2
    for path, st02 in zip(paths, ("0041", "0051"), strict=True):
        s = segs(path)
        tags = [x[0] for x in s]
        assert tags == ["ISA", "GS", "ST", "AK1", "AK2", "IK5", "AK9", "SE", "GE", "IEA"]
        assert s[3][1:3] == ["HP", s[3][2]] and s[4][1:] == ["835", st02]
        assert s[5] == ["IK5", "A"] and s[6][:5] == ["AK9", "A", "1", "1", "1"]
        assert s[0][8].strip() == "SYNPAYER"  # back to the sender


def test_999_rejects_the_set_with_a_bad_count(tmp_path):
    data = FIX.joinpath("paid-claims-four-cas-groups.835").read_text().replace("SE*29*0001", "SE*28*0001").encode()
    reader, err = read_all(data)
    assert err is not None and err.reason == "SE_COUNT_MISMATCH"
    (path,) = write_acks(reader, "b" * 64, WHEN, tmp_path, err)
    s = segs(path)
    ik5 = next(x for x in s if x[0] == "IK5")
    ak9 = next(x for x in s if x[0] == "AK9")
    assert ik5 == ["IK5", "R", "4"] and ak9[1] == "R"


def test_ta1_for_an_envelope_error(tmp_path):
    data = (
        FIX.joinpath("paid-claims-four-cas-groups.835")
        .read_text()
        .replace("IEA*1*000000101", "IEA*1*000000999")
        .encode()
    )
    reader, err = read_all(data)
    assert err.reason == "IEA_CONTROL_MISMATCH"
    (path,) = write_acks(reader, "c" * 64, WHEN, tmp_path, err)
    assert path.endswith(".ta1")
    s = segs(path)
    ta1 = next(x for x in s if x[0] == "TA1")
    assert ta1[1] == "000000101" and ta1[4:6] == ["R", "001"]
    assert s[-1][:2] == ["IEA", "0"]


def test_same_input_gives_the_same_ack(tmp_path):
    reader, _ = read_all(FIX.joinpath("reversal-and-correction.835").read_bytes())
    (a,) = write_acks(reader, "d" * 64, WHEN, tmp_path / "a")
    (b,) = write_acks(reader, "d" * 64, WHEN, tmp_path / "b")
    assert open(a).read() == open(b).read()
