"""The soak's mixed days (revcycle.synthetic.mixed): each day's trouble is what it says, from what earlier days
left, and the same in every home that runs the same days."""

from __future__ import annotations

import datetime as dt
import hashlib

from revcycle.synthetic.day import generate_day
from revcycle.synthetic.mixed import HELD, add_trouble
from revcycle.x12.reader import X12Reader

DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(3)]


def _three_days(inbound):
    return [add_trouble(inbound, day, generate_day(inbound, day, 60, 3)) for day in DAYS]


def _isa13(data: bytes) -> str:
    return data[:106].split(data[3:4])[13].decode()


def _body(data: bytes) -> list[bytes]:
    """Every segment but the ISA and IEA (the envelope a re-send changes)."""
    term = data[105:106]
    return [seg for seg in data.split(term) if not seg.strip().startswith((b"ISA", b"IEA"))]


def test_each_trouble_is_what_it_says(tmp_path):
    inbound = tmp_path / "inbound"
    first, second, third = _three_days(inbound)
    assert first["resent"] == first["duplicate_payment"] == first["late"] == []
    assert len(first["malformed"]) == 8 and len(first["held"]) == 1
    # Re-sent: yesterday's bytes under another name.
    resent = (inbound / second["resent"][0]).read_bytes()
    assert any(p.read_bytes() == resent for p in (inbound / "remittance").glob("era_*_20261102_*.835"))
    # Duplicate payment: yesterday's payments re-enveloped under a new ISA13 (new bytes, a well-formed X12).
    dup = (inbound / second["duplicate_payment"][0]).read_bytes()
    original = next(
        p.read_bytes()
        for p in (inbound / "remittance").glob("era_*_20261102_*.835")
        if _body(p.read_bytes()) == _body(dup)
    )
    assert _isa13(dup) != _isa13(original)
    with open(inbound / second["duplicate_payment"][0], "rb") as fh:
        reader = X12Reader(fh)
        assert sum(1 for _ in reader) > 0 and reader.interchanges[0].control_number == _isa13(dup)
    # Late: the 835 held back on the first day arrives on the third, and nowhere before.
    assert [p.split("/")[-1] for p in third["late"]] == first["held"]
    assert not (inbound / HELD / DAYS[2].isoformat()).exists() or not any(
        (inbound / HELD / DAYS[2].isoformat()).iterdir()
    )
    # A malformed file of each kind, each day's bytes its own (the same bytes would be one file sent twice).
    assert set(second["malformed"]) == {"835", "277", "999", "hl7", "or-csv", "bank", "billing", "invoices"}
    digests = [
        hashlib.sha256((inbound / p).read_bytes()).hexdigest()
        for t in (first, second, third)
        for p in t["malformed"].values()
    ]
    assert len(set(digests)) == len(digests)
    assert third["must_quarantine"] == sorted(
        p.split("/")[-1] for p in [*third["duplicate_payment"], *third["malformed"].values()]
    )


def test_two_homes_get_the_same_bytes(tmp_path):
    homes = [tmp_path / "a", tmp_path / "b"]
    for home in homes:
        _three_days(home)

    def files(home):
        return {
            str(p.relative_to(home)): p.read_bytes()
            for p in home.rglob("*")
            if p.is_file() and "_manifest" not in p.parts
        }

    assert files(homes[0]) == files(homes[1])
