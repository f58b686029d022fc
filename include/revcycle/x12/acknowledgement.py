"""999 implementation acknowledgements (005010X231A1) and TA1 interchange acknowledgements.

Our own builder: pyx12's 999 writer fails on 5010 835 ("Cannot create AK2",
``KeyError: 3``).  One 999 per inbound interchange: per functional group an
AK1, per transaction set an AK2 + IK5 (A accepted, R rejected), then AK9
(A all accepted, P partially, R rejected).  Envelope errors that make the
interchange unreadable get a TA1 instead (interchange note code R).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from revcycle.x12.reader import Delimiters, Interchange, X12Reader, element
from revcycle.x12.sets import fed, map_sets
from revcycle.x12.writer import Envelope, X12Writer

# IK5-02 / AK9-05 syntax error codes, by our reason codes.
IK5_CODES = {
    "SE_COUNT_MISMATCH": "4",  # number of included segments does not match actual count
    "SE_CONTROL_MISMATCH": "3",  # transaction set control number in header and trailer do not match
    "TRUNCATED": "2",  # transaction set trailer missing
}
AK9_CODES = {"GE_COUNT_MISMATCH": "5", "GE_CONTROL_MISMATCH": "4", "TRUNCATED": "3"}
# TA1-05 interchange note codes.
TA1_CODES = {
    "IEA_CONTROL_MISMATCH": "001",
    "IEA_COUNT_MISMATCH": "021",
    "ISA_SYNTAX": "022",
    "DELIMITER_COLLISION": "026",
    "TRUNCATED": "023",
    "NOT_UTF8": "022",
    "UNEXPECTED_SEGMENT": "024",
}

ACK_DELIMITERS = Delimiters("*", ":", "^", "~")


@dataclass
class SetResult:
    st01: str
    st02: str
    accepted: bool
    error_code: str | None = None


@dataclass
class GroupResult:
    functional_id: str
    control_number: str
    version: str
    sets: list[SetResult] = field(default_factory=list)
    group_error: str | None = None

    @property
    def ak9(self) -> str:
        accepted = sum(1 for s in self.sets if s.accepted)
        if self.group_error or (self.sets and accepted == 0):
            return "R"
        return "A" if accepted == len(self.sets) else "P"


def write_999(
    out: TextIO,
    inbound: Interchange,
    groups: list[GroupResult],
    receiver_id: str,
    control_number: int,
    when: dt.datetime,
) -> None:
    """Answer one inbound interchange; the ack goes back from its receiver to its sender."""
    w = X12Writer(out, ACK_DELIMITERS, newline=True)
    env = Envelope(
        "ZZ",
        receiver_id[:15],
        inbound.sender_qualifier or "ZZ",
        inbound.sender_id[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        control_number,
    )
    w.isa(env)
    w.gs(
        "FA",
        receiver_id,
        inbound.sender_id,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        control_number,
        "005010X231A1",
    )
    for n, group in enumerate(groups, start=1):
        st02 = f"{n:04d}"
        w.st("999", st02, "005010X231A1")
        w.seg("AK1", group.functional_id, group.control_number, group.version)
        for s in group.sets:
            w.seg("AK2", s.st01, s.st02)
            if s.accepted:
                w.seg("IK5", "A")
            else:
                w.seg("IK5", "R", s.error_code or "5")
        accepted = sum(1 for s in group.sets if s.accepted)
        ak9_code = AK9_CODES.get(group.group_error or "", "") if group.group_error else ""
        w.seg("AK9", group.ak9, len(group.sets), len(group.sets), accepted, ak9_code)
        w.se(st02)
    w.ge(control_number)
    w.iea(env)


def write_ta1(
    out: TextIO,
    inbound_control: str,
    inbound_date: str,
    inbound_time: str,
    reason: str,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    when: dt.datetime,
) -> None:
    """A TA1 rejecting an interchange whose envelope is unreadable or inconsistent."""
    w = X12Writer(out, ACK_DELIMITERS, newline=True)
    env = Envelope(
        "ZZ",
        receiver_id[:15],
        "ZZ",
        (sender_id or "UNKNOWN")[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        control_number,
    )
    w.isa(env)
    ctl = inbound_control if inbound_control.isascii() and inbound_control.isdigit() else "0"
    w.out.write(
        w.d.element.join(
            [
                "TA1",
                f"{int(ctl):09d}",
                inbound_date or "000000",
                inbound_time or "0000",
                "R",
                TA1_CODES.get(reason, "022"),
            ]
        )
        + w.eol
    )
    w.iea(env)


# -- reading 999s ---------------------------------------------------------------
@dataclass
class AckSet:
    """One 999 transaction set: the answer to one functional group we sent, one row per AK2."""

    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    implementation: str
    functional_id: str = ""
    acknowledged_group: str = ""
    acknowledged_version: str = ""
    group_status: str | None = None  # AK9-01: A, E, P, R (M, W, X in 5010 too)
    sets: list[dict] = field(default_factory=list)


def map_999(reader: X12Reader) -> Iterator[AckSet]:
    return map_sets(
        reader,
        "FA",
        "999",
        fed(
            lambda env, delim: _AckMapper(
                AckSet(
                    env.interchange_sender,
                    env.interchange_control,
                    env.group_control,
                    env.transaction_control,
                    env.implementation,
                )
            )
        ),
    )


class _AckMapper:
    """AK1 names the group answered; each AK2 opens a set answer closed by its IK5.

    IK3/IK4 give the segment id, position and error codes; CTX segments quote
    business values (claim ids, situational triggers) and are never copied.
    """

    def __init__(self, ack: AckSet) -> None:
        self.a = ack
        self.current: dict | None = None

    def feed(self, seg: list[str]) -> None:
        tag = seg[0]
        if tag == "AK1":
            self.a.functional_id, self.a.acknowledged_group = element(seg, 1), element(seg, 2)
            self.a.acknowledged_version = element(seg, 3)
        elif tag == "AK2":
            self.current = {
                "set_id": element(seg, 1),
                "set_control": element(seg, 2),
                "status": None,
                "syntax_codes": [],
                "error_segments": [],
                "element_errors": 0,
            }
            self.a.sets.append(self.current)
        elif tag == "IK3" and self.current is not None:
            self.current["error_segments"].append(f"{element(seg, 1)}@{element(seg, 2)}:{element(seg, 4)}")
        elif tag == "IK4" and self.current is not None:
            self.current["element_errors"] += 1
        elif tag == "IK5" and self.current is not None:
            self.current["status"] = element(seg, 1) or None
            self.current["syntax_codes"] = [c for c in seg[2:7] if c]
        elif tag == "AK9":
            self.a.group_status = element(seg, 1) or None

    def finish(self) -> AckSet:
        return self.a
