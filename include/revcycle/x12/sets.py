"""Transaction sets of one kind, streamed: the loop every implementation-guide mapper shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from revcycle.errors import X12Error
from revcycle.x12.reader import Delimiters, X12Reader


@dataclass(frozen=True)
class SetEnvelope:
    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    implementation: str        # ST03 when present, else GS08


class SetMapper(Protocol):
    def feed(self, seg: list[str]) -> None: ...
    def finish(self): ...


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def map_sets(reader: X12Reader, functional_id: str, set_id: str,
             new_mapper: Callable[[SetEnvelope, Delimiters], SetMapper]) -> Iterator:
    """Feed each ST..SE body to a fresh mapper and yield what it finishes with; refuse other kinds."""
    mapper: SetMapper | None = None
    sender = isa13 = gs06 = version = ""
    for seg in reader:
        tag = seg[0]
        if tag == "ISA":
            sender, isa13 = seg[6].strip(), seg[13].strip()
        elif tag == "GS":
            gs06, version = _el(seg, 6), _el(seg, 8)
            if _el(seg, 1) != functional_id:
                raise X12Error("WRONG_TRANSACTION_TYPE", f"GS01={_el(seg, 1)!r} is not {functional_id} ({set_id})")
        elif tag == "ST":
            if _el(seg, 1) != set_id:
                raise X12Error("WRONG_TRANSACTION_TYPE", f"ST01={_el(seg, 1)!r} is not {set_id}")
            envelope = SetEnvelope(sender, isa13, gs06, _el(seg, 2), _el(seg, 3) or version)
            mapper = new_mapper(envelope, reader.delimiters)
        elif tag == "SE":
            assert mapper is not None
            yield mapper.finish()
            mapper = None
        elif mapper is not None:
            mapper.feed(seg)
