"""Synthetic 835 ERA files: balanced to the cent at line, claim and transaction level.

Exercises what real payer files carry: several interchanges in one file, CAS
at claim and line level in all four groups (CO, OA, PI, PR), PLB with positive
(WO recovery, FB forwarding balance) and negative (L6 interest) amounts,
denials (CLP02=4), reversal (CLP02=22) + corrected claim pairs, secondary
claims, and payer-specific delimiters.  Claims are written one transaction set
at a time, so memory is bounded by the set size, not the day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from revcycle.synthetic.identities import (
    PROVIDER_NAME,
    PROVIDER_NPI,
    PROVIDER_TIN,
    RECEIVER_ID,
    Patient,
    Payer,
    patient,
)
from revcycle.x12.writer import Envelope, X12Writer, fmt_amount

CLAIMS_PER_SET = 400
PROCEDURES = (
    ("99213", "25"),
    ("99214", ""),
    ("71045", "26"),
    ("80053", ""),
    ("93000", ""),
    ("36415", ""),
    ("97110", "GP"),
    ("27447", "RT"),
    ("J3420", ""),
    ("85025", ""),
)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def split(amount: Decimal, share: float) -> Decimal:
    return (amount * Decimal(str(share))).quantize(Decimal("0.01"))


@dataclass
class Line:
    procedure: str
    modifier: str
    charge: Decimal
    paid: Decimal
    units: int
    service_date: str
    control_number: str
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)


@dataclass
class Claim:
    patient_control_number: str
    payer_claim_control_number: str
    status: str
    patient: Patient
    lines: list[Line]
    claim_adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    filing_indicator: str = "12"

    @property
    def charge(self) -> Decimal:
        return sum((ln.charge for ln in self.lines), Decimal("0"))

    @property
    def paid(self) -> Decimal:
        return sum((ln.paid for ln in self.lines), Decimal("0")) - sum(
            (a for _, _, a in self.claim_adjustments), Decimal("0")
        )

    @property
    def patient_responsibility(self) -> Decimal:
        adj = self.claim_adjustments + [a for ln in self.lines for a in ln.adjustments]
        return sum((a for g, _, a in adj if g == "PR"), Decimal("0"))


def _line(rng: random.Random, date8: str, control: str, kind: str) -> Line:
    proc, mod = rng.choice(PROCEDURES)
    units = rng.choice((1, 1, 1, 2, 3))
    charge = cents(rng, 40, 2400) * units
    if kind == "denied":
        return Line(proc, mod, charge, Decimal("0"), units, date8, control, [("CO", "50", charge)])
    allowed = split(charge, rng.uniform(0.45, 0.9))
    adjustments = [("CO", "45", charge - allowed)]
    pr = Decimal("0")
    if rng.random() < 0.5:
        pr = split(allowed, rng.choice((0.1, 0.2)))
        adjustments.append(("PR", rng.choice(("1", "2", "3")), pr))
    if rng.random() < 0.08:
        adjustments.append(("PI", "94", Decimal("1.50")))
        pr += Decimal("1.50")
    return Line(proc, mod, charge, allowed - pr, units, date8, control, adjustments)


def make_claim(rng: random.Random, n: int, service_date: dt.date, kind: str) -> Claim:
    date8 = service_date.strftime("%Y%m%d")
    lines = [_line(rng, date8, f"L{n:07d}{i}", kind) for i in range(1, rng.choice((1, 1, 2, 3, 4)) + 1)]
    status = {"denied": "4", "secondary": "2"}.get(kind, "1")
    claim = Claim(f"PCN{n:09d}", f"ICN{n:011d}", status, patient(rng, n), lines)
    if kind == "secondary":
        # Claim-level CAS: what the primary paid, carried as OA-23.
        carve = min(split(claim.paid, 0.3), claim.paid)
        claim.claim_adjustments.append(("OA", "23", carve))
    return claim


def reversal_pair(rng: random.Random, n: int, service_date: dt.date) -> tuple[Claim, Claim]:
    """A CLP02=22 reversal of an earlier payment and the corrected claim that follows it."""
    original = make_claim(rng, n, service_date, "paid")
    reversal = Claim(
        original.patient_control_number,
        original.payer_claim_control_number,
        "22",
        original.patient,
        [
            Line(
                ln.procedure,
                ln.modifier,
                -ln.charge,
                -ln.paid,
                ln.units,
                ln.service_date,
                ln.control_number,
                [(g, r, -a) for g, r, a in ln.adjustments],
            )
            for ln in original.lines
        ],
    )
    corrected = make_claim(rng, n, service_date, "paid")
    corrected.patient = original.patient
    corrected.payer_claim_control_number = original.payer_claim_control_number + "C"
    return reversal, corrected


@dataclass
class ProviderAdjustment:
    reason: str
    reference: str
    amount: Decimal


@dataclass
class PaymentSet:
    st02: str
    trace: str
    claims: list[Claim]
    plb: list[ProviderAdjustment]

    @property
    def sum_paid(self) -> Decimal:
        return sum((c.paid for c in self.claims), Decimal("0"))

    @property
    def sum_plb(self) -> Decimal:
        return sum((p.amount for p in self.plb), Decimal("0"))

    @property
    def bpr02(self) -> Decimal:
        return self.sum_paid - self.sum_plb


def claim_kinds(rng: random.Random, count: int) -> Iterator[str]:
    for _ in range(count):
        r = rng.random()
        yield "denied" if r < 0.07 else "secondary" if r < 0.15 else "reversal" if r < 0.17 else "paid"


def payment_sets(
    rng: random.Random, payer: Payer, day: dt.date, first_claim: int, count: int, set_counter: Iterator[int]
) -> Iterator[PaymentSet]:
    """Group ``count`` claims into payments of at most CLAIMS_PER_SET claims."""
    n = first_claim
    remaining = count
    service_date = day - dt.timedelta(days=21)
    while remaining > 0:
        size = min(remaining, CLAIMS_PER_SET)
        claims: list[Claim] = []
        for kind in claim_kinds(rng, size):
            if kind == "reversal":
                claims.extend(reversal_pair(rng, n, service_date))
            else:
                claims.append(make_claim(rng, n, service_date, kind))
            n += 1
        remaining -= size
        set_no = next(set_counter)
        plb: list[ProviderAdjustment] = []
        if rng.random() < 0.6:
            plb.append(ProviderAdjustment("L6", f"INT{set_no:06d}", -cents(rng, 1, 40)))
        if rng.random() < 0.5:
            plb.append(ProviderAdjustment("WO", f"ICN{rng.randrange(10**10):011d}", cents(rng, 5, 60)))
        if rng.random() < 0.2:
            plb.append(ProviderAdjustment("FB", f"FB{set_no:06d}", cents(rng, 1, 25)))
        pset = PaymentSet(f"{set_no:04d}", f"{payer.payer_id[-4:]}{day:%y%m%d}{set_no:05d}", claims, plb)
        if pset.bpr02 <= 0:
            pset.plb = [p for p in plb if p.amount < 0]
        yield pset


def write_payment_set(w: X12Writer, payer: Payer, pset: PaymentSet, day: dt.date) -> None:
    d8 = day.strftime("%Y%m%d")
    w.st("835", pset.st02)
    if payer.method == "ACH":
        w.seg(
            "BPR",
            "I",
            fmt_amount(pset.bpr02),
            "C",
            "ACH",
            "CCP",
            "01",
            "011000015",
            "DA",
            "0001234567",
            "1" + payer.payer_id[1:],
            "",
            "01",
            "021000021",
            "DA",
            "0009876543",
            d8,
        )
    else:
        w.seg("BPR", "I", fmt_amount(pset.bpr02), "C", "CHK", "", "", "", "", "", "", "", "", "", "", "", d8)
    w.seg("TRN", "1", pset.trace, "1" + payer.payer_id[1:])
    w.seg("DTM", "405", d8)
    w.seg("N1", "PR", payer.name)
    w.seg("N3", "100 SYNTHETIC PLAZA")
    w.seg("N4", "SPRINGFIELD", "IL", "62701")
    w.seg("PER", "BL", "EDI SUPPORT", "TE", "8005550100")
    w.seg("N1", "PE", PROVIDER_NAME, "XX", PROVIDER_NPI)
    w.seg("REF", "TJ", PROVIDER_TIN)
    w.seg("LX", "1")
    for c in pset.claims:
        w.seg(
            "CLP",
            c.patient_control_number,
            c.status,
            fmt_amount(c.charge),
            fmt_amount(c.paid),
            fmt_amount(c.patient_responsibility) if c.patient_responsibility else "",
            c.filing_indicator,
            c.payer_claim_control_number,
            "13",
            "1",
        )
        for group, reason, amount in c.claim_adjustments:
            w.seg("CAS", group, reason, fmt_amount(amount))
        p = c.patient
        w.seg("NM1", "QC", "1", p.last, p.first, "", "", "", "MI", p.member_id)
        w.seg("DTM", "232", c.lines[0].service_date)
        w.seg("DTM", "233", c.lines[0].service_date)
        for ln in c.lines:
            w.seg(
                "SVC", w.comp("HC", ln.procedure, ln.modifier), fmt_amount(ln.charge), fmt_amount(ln.paid), "", ln.units
            )
            w.seg("DTM", "472", ln.service_date)
            by_group: dict[str, list[tuple[str, Decimal]]] = {}
            for group, reason, amount in ln.adjustments:
                by_group.setdefault(group, []).append((reason, amount))
            for group, triplets in by_group.items():
                elements: list[object] = ["CAS", group]
                for reason, amount in triplets:
                    elements += [reason, fmt_amount(amount), ""]
                w.seg(*elements)
            w.seg("REF", "6R", ln.control_number)
    if pset.plb:
        elements = ["PLB", PROVIDER_NPI, f"{day.year}1231"]
        for adj in pset.plb:
            elements += [w.comp(adj.reason, adj.reference), fmt_amount(adj.amount)]
        w.seg(*elements)
    w.se(pset.st02)


def write_835_file(
    path: Path,
    payer: Payer,
    day: dt.date,
    interchanges: list[Iterable[PaymentSet]],
    first_control: int,
    on_set: Callable[[PaymentSet], None] = lambda pset: None,
) -> list[dict]:
    """Write one file holding ``len(interchanges)`` ISA..IEA envelopes; return its manifest sets."""
    summary = []
    with open(path, "w", encoding="ascii", newline="") as out:
        w = X12Writer(out, payer.delimiters, payer.newline)
        for i, sets in enumerate(interchanges):
            control = first_control + i
            env = Envelope("ZZ", payer.payer_id, "ZZ", RECEIVER_ID, day.strftime("%y%m%d"), "0800", control)
            w.isa(env)
            w.gs("HP", payer.payer_id, RECEIVER_ID, day.strftime("%Y%m%d"), "0800", control, "005010X221A1")
            for pset in sets:
                write_payment_set(w, payer, pset, day)
                on_set(pset)
                summary.append(
                    {"isa13": f"{control:09d}", "gs06": str(control), **set_summary(pset, pset.st02, payer, day)}
                )
            w.ge(control)
            w.iea(env)
    return summary


def set_summary(pset: PaymentSet, control: str, payer: Payer, day: dt.date) -> dict:
    """One payment as the manifest records it (the 835 and the FHIR writers alike)."""
    return {
        "st02": control,
        "trace": pset.trace,
        "payer_id": "1" + payer.payer_id[1:],
        "payment_date": day.isoformat(),
        "method": payer.method,
        "claims": len(pset.claims),
        "bpr02": str(pset.bpr02),
        "sum_clp04": str(pset.sum_paid),
        "sum_plb": str(pset.sum_plb),
        "reversals": sum(1 for c in pset.claims if c.status == "22"),
        "denials": sum(1 for c in pset.claims if c.status == "4"),
    }
