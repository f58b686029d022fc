"""276 claim status inquiries (005010X212): written for the payers, and read back by the same reader.

Writing: one interchange per payer per business day, one functional group (HR),
transaction sets of at most ``max_claims_per_set`` claims each, the TR3's HL
hierarchy 20 payer -> 21 information receiver (us) -> 19 service provider ->
22 subscriber per claim with DMG, NM1*IL, TRN*1 (the patient control number, so
the 277 echoes it back as TRN02 = CLP01), REF*1K when the payer's claim number
is known, REF*EJ, AMT*T3 and DTP*472.  The subscriber's name, member id and
birth date go into the file - that is what a payer needs to find the claim - and
nowhere else: the caller supplies them from the billing system at write time.

Reading (``map_inquiries``) keeps no PHI: claims are reported by patient
control number, payer claim number, trace, amounts and dates, with the member
id tokenised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from revcycle.domain.phi import tokenise
from revcycle.x12.reader import Delimiters, X12Reader, element
from revcycle.x12.sets import fed, map_sets
from revcycle.x12.values import date8, optional_money
from revcycle.x12.writer import Envelope, X12Writer, fmt_amount

IMPLEMENTATION = "005010X212"


@dataclass(frozen=True)
class Party:
    """One side of an interchange: ISA qualifier/id, name and (for the provider) NPI."""

    interchange_qualifier: str
    interchange_id: str
    name: str
    payer_id: str = ""
    npi: str = ""


@dataclass(frozen=True)
class InquiryClaim:
    patient_control_number: str
    payer_claim_control_number: str | None
    billed_amount: Decimal
    service_date_from: dt.date
    service_date_to: dt.date
    # PHI, in memory only: written into the 276 and nowhere else.
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    birth_date: dt.date
    gender: str = "U"


@dataclass
class WrittenSet:
    control_number: str
    patient_control_numbers: list[str]


def interchange_control(business_date: dt.date, sequence: int) -> int:
    """A 9-digit ISA13 from the business date (YYDDD) and the day's sequence: replays reuse it, days never collide."""
    if not 1 <= sequence <= 9999:
        raise ValueError("an interchange sequence is 1..9999 per business day")
    return int(f"{business_date:%y}{business_date.timetuple().tm_yday:03d}{sequence:04d}")


def write_276(
    out: TextIO,
    delimiters: Delimiters,
    submitter: Party,
    payer: Party,
    claims: list[InquiryClaim],
    control_number: int,
    business_date: dt.date,
    max_claims_per_set: int = 50,
    usage: str = "P",
) -> list[WrittenSet]:
    """Write one interchange of inquiries for one payer; return the sets written with their claims."""
    if not claims:
        raise ValueError("a 276 needs at least one claim")
    d8 = business_date.strftime("%Y%m%d")
    w = X12Writer(out, delimiters, newline=True)
    env = Envelope(
        submitter.interchange_qualifier,
        submitter.interchange_id,
        payer.interchange_qualifier,
        payer.interchange_id,
        business_date.strftime("%y%m%d"),
        "0700",
        control_number,
        usage,
    )
    w.isa(env)
    w.gs("HR", submitter.interchange_id, payer.interchange_id, d8, "0700", control_number, IMPLEMENTATION)
    written = []
    for n, start in enumerate(range(0, len(claims), max_claims_per_set), start=1):
        chunk = claims[start : start + max_claims_per_set]
        st02 = f"{n:04d}"
        w.st("276", st02, IMPLEMENTATION)
        w.seg("BHT", "0010", "13", f"{control_number}{st02}", d8, "0700")
        w.seg("HL", "1", "", "20", "1")
        w.seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id)
        w.seg("HL", "2", "1", "21", "1")
        w.seg("NM1", "41", "2", submitter.name, "", "", "", "", "46", submitter.interchange_id)
        w.seg("HL", "3", "2", "19", "1")
        w.seg("NM1", "1P", "2", submitter.name, "", "", "", "", "XX", submitter.npi)
        for hl, c in enumerate(chunk, start=4):
            w.seg("HL", str(hl), "3", "22", "0")
            w.seg("DMG", "D8", c.birth_date.strftime("%Y%m%d"), c.gender)
            w.seg("NM1", "IL", "1", c.subscriber_last_name, c.subscriber_first_name, "", "", "", "MI", c.member_id)
            w.seg("TRN", "1", c.patient_control_number)
            if c.payer_claim_control_number:
                w.seg("REF", "1K", c.payer_claim_control_number)
            w.seg("REF", "EJ", c.patient_control_number)
            w.seg("AMT", "T3", fmt_amount(c.billed_amount))
            w.seg("DTP", "472", "RD8", f"{c.service_date_from:%Y%m%d}-{c.service_date_to:%Y%m%d}")
        w.se(st02)
        written.append(WrittenSet(st02, [c.patient_control_number for c in chunk]))
    w.ge(control_number)
    w.iea(env)
    return written


# -- reading ----------------------------------------------------------------------
@dataclass
class InquirySet:
    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    implementation: str
    claims: list[dict] = field(default_factory=list)


def map_inquiries(reader: X12Reader) -> Iterator[InquirySet]:
    return map_sets(
        reader,
        "HR",
        "276",
        fed(
            lambda env, delim: _InquiryMapper(
                InquirySet(
                    env.interchange_sender,
                    env.interchange_control,
                    env.group_control,
                    env.transaction_control,
                    env.implementation,
                ),
                delim.component,
            )
        ),
    )


class _InquiryMapper:
    """HL 20/21/19 set the payer, receiver and provider; each TRN under a 22/23 starts one claim inquiry."""

    def __init__(self, iset: InquirySet, component: str) -> None:
        self.s = iset
        self.comp = component
        self.level = ""
        self.payer_id = self.receiver_id = self.provider_id = None
        self.member_token = None
        self.claim: dict | None = None

    def feed(self, seg: list[str]) -> None:
        handler = getattr(self, "_" + seg[0], None)
        if handler is not None:
            handler(seg)

    def _HL(self, seg):
        self.level = element(seg, 3)
        if self.level in ("20", "21", "19"):
            self.member_token = None

    def _NM1(self, seg):
        entity, ident = element(seg, 1), element(seg, 9) or None
        if entity == "PR":
            self.payer_id = ident
        elif entity == "41":
            self.receiver_id = ident
        elif entity == "1P":
            self.provider_id = ident
        elif entity == "IL" and ident:
            self.member_token = tokenise(ident)

    def _TRN(self, seg):
        self.claim = {
            "trace_number": element(seg, 2),
            "patient_control_number": None,
            "payer_claim_control_number": None,
            "billed_amount": None,
            "service_date_from": None,
            "service_date_to": None,
            "service_lines": 0,
            "level": self.level,
            "payer_id": self.payer_id,
            "receiver_id": self.receiver_id,
            "provider_id": self.provider_id,
            "member_token": self.member_token,
        }
        self.s.claims.append(self.claim)

    def _REF(self, seg):
        if self.claim is None:
            return
        if element(seg, 1) == "EJ":
            self.claim["patient_control_number"] = element(seg, 2)
        elif element(seg, 1) == "1K":
            self.claim["payer_claim_control_number"] = element(seg, 2)

    def _AMT(self, seg):
        if self.claim is not None and element(seg, 1) == "T3":
            self.claim["billed_amount"] = optional_money(element(seg, 2), f"AMT*T3 in ST {self.s.transaction_control}")

    def _SVC(self, seg):
        if self.claim is not None:
            self.claim["service_lines"] += 1

    def _DTP(self, seg):
        if self.claim is None or element(seg, 1) != "472" or self.claim["service_lines"]:
            return
        start, _, end = element(seg, 3).partition("-")
        self.claim["service_date_from"], self.claim["service_date_to"] = date8(start), date8(end or start)

    def finish(self) -> InquirySet:
        for claim in self.s.claims:
            # REF*EJ is situational; without it the trace is the inquirer's own claim reference.
            claim["patient_control_number"] = claim["patient_control_number"] or claim["trace_number"]
        return self.s


def read_inquiries(path: str | Path) -> list[InquirySet]:
    with open(path, "rb") as stream:
        return list(map_inquiries(X12Reader(stream)))
