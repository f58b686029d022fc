"""Write X12 with any delimiters: segments from element lists, envelopes with correct counts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from revcycle.x12.reader import Delimiters


def fmt_amount(value: Decimal) -> str:
    """X12 'R' type: no superfluous trailing zeros beyond cents, no leading '+'."""
    q = value.quantize(Decimal("0.01"))
    text = format(q, "f")
    if text.endswith(".00"):
        text = text[:-3]
    elif text.endswith("0") and "." in text:
        text = text[:-1]
    return "0" if text in ("-0", "") else text


@dataclass
class Envelope:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date6: str
    time4: str
    control_number: int
    usage: str = "P"
    version: str = "00501"


class X12Writer:
    """Streams segments to a text file, counting what the trailers need."""

    def __init__(self, out: TextIO, delimiters: Delimiters, newline: bool = True) -> None:
        self.out = out
        self.d = delimiters
        self.eol = delimiters.segment + ("\n" if newline and delimiters.segment != "\n" else "")
        self.st_segments = 0
        self.st_count = 0
        self.gs_count = 0

    def seg(self, *elements: object) -> None:
        values = ["" if e is None else str(e) for e in elements]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        self.out.write(self.d.element.join(values) + self.eol)
        self.st_segments += 1

    def comp(self, *parts: object) -> str:
        values = ["" if p is None else str(p) for p in parts]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        return self.d.component.join(values)

    def isa(self, env: Envelope) -> None:
        e = self.d.element
        rep = self.d.repetition or "U"
        fields = [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            env.sender_qualifier,
            env.sender_id.ljust(15),
            env.receiver_qualifier,
            env.receiver_id.ljust(15),
            env.date6,
            env.time4,
            rep,
            env.version,
            f"{env.control_number:09d}",
            "0",
            env.usage,
            self.d.component,
        ]
        self.out.write(e.join(fields) + self.eol)
        self.gs_count = 0

    def iea(self, env: Envelope) -> None:
        self.out.write(self.d.element.join(["IEA", str(self.gs_count), f"{env.control_number:09d}"]) + self.eol)

    def gs(
        self, functional_id: str, sender: str, receiver: str, date8: str, time4: str, control: int, version: str
    ) -> None:
        self.out.write(
            self.d.element.join(["GS", functional_id, sender, receiver, date8, time4, str(control), "X", version])
            + self.eol
        )
        self.gs_count += 1
        self.st_count = 0

    def ge(self, control: int) -> None:
        self.out.write(self.d.element.join(["GE", str(self.st_count), str(control)]) + self.eol)

    def st(self, set_id: str, control: str, guide: str = "") -> None:
        """ST03 names the guide where the TR3 uses it (277, 999); the 835 TR3 marks it not used."""
        self.st_segments = 0
        self.seg("ST", set_id, control, guide)
        self.st_count += 1

    def se(self, control: str) -> None:
        self.seg("SE", self.st_segments + 1, control)
