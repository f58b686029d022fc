"""HL7 v2 acknowledgements (original mode): one ACK per inbound message, AA / AE / AR with an ERR.

Written by our own writer (hl7apy builds ~300 ACKs/s here; a day's 50k would
take minutes); the tests parse these ACKs back with hl7apy to prove their
structure.  The ACK's MSH-7 repeats the inbound MSH-7, not the wall clock, so a
replay writes the same bytes.  ERR carries the location (segment^sequence^field),
the HL7 table 0357 condition, severity E and our reason code - never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# HL7 table 0357 message error condition codes used here.
CONDITIONS = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "207": "Application internal error",
}


@dataclass(frozen=True)
class AckInput:
    code: str  # AA accepted, AE error (resend after fixing), AR rejected (cannot process)
    control_id: str  # MSH-10 of the message answered ('' when it had none)
    sending_app: str = ""
    sending_facility: str = ""
    receiving_app: str = ""
    receiving_facility: str = ""
    timestamp: str = ""
    event: str = ""
    version: str = "2.5.1"
    reason: str | None = None
    condition: str | None = None
    location: str = ""
    detail: str = ""


@lru_cache(maxsize=1024)  # a feed repeats its applications, facilities, events and versions
def _esc(text: str) -> str:
    """Escape our own delimiters in free text (reason details never hold values, but may hold '^' or '|')."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )


def build_ack(a: AckInput, seq: int) -> str:
    """One ACK message (segments ended by CR)."""
    ack_control = f"ACK{a.control_id or f'NOID{seq}'}"[:199]
    segs = [
        f"MSH|^~\\&|{_esc(a.receiving_app) or 'REVCYCLE'}|{_esc(a.receiving_facility)}|{_esc(a.sending_app)}|"
        f"{_esc(a.sending_facility)}|{_esc(a.timestamp)}||ACK^{_esc(a.event)}^ACK|{_esc(ack_control)}|P|"
        f"{_esc(a.version) or '2.5.1'}",
        f"MSA|{a.code}|{_esc(a.control_id)}",
    ]
    if a.code != "AA":
        condition = a.condition or "207"
        segs.append(
            f"ERR||{a.location}|{condition}^{CONDITIONS.get(condition, 'Error')}^HL70357|E|"
            f"{_esc(a.reason or '')}^{_esc(a.reason or '')}^L|||{_esc(a.detail)[:250]}"
        )
    return "\r".join(segs) + "\r"
