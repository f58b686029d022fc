"""Synthetic identities and reference entities for generated files.

No real names or identifiers: patients are SYNTH-<n> with invented member ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from revcycle.x12.reader import Delimiters


@dataclass(frozen=True)
class Payer:
    payer_id: str  # TRN03 / ISA06 / N1*PR N104
    name: str
    delimiters: Delimiters
    newline: bool  # one segment per line, or the whole file on one line
    method: str  # BPR04: ACH or CHK
    files: int  # 835 files a day
    interchanges_per_file: int


PAYERS = (
    Payer("1123456789", "ACME HEALTH PLAN", Delimiters("*", ":", "^", "~"), True, "ACH", 1, 2),
    Payer("1234509876", "BLUE RIVER MUTUAL", Delimiters("|", "^", "{", "~"), True, "ACH", 1, 1),
    Payer("1555666777", "CENTRAL STATE MEDICAID", Delimiters("*", ">", "^", "~"), False, "ACH", 1, 1),
    Payer("1999888777", "DELTA COMMERCIAL", Delimiters("^", "<", "}", "~"), True, "CHK", 1, 1),
)

PROVIDER_NPI = "1999999984"
PROVIDER_TIN = "999999999"
PROVIDER_NAME = "SYNTHETIC GENERAL HOSPITAL"
RECEIVER_ID = "SYNTHHOSP"

LAST = ("ALDER", "BIRCH", "CEDAR", "DOGWOOD", "ELM", "FIR", "GINKGO", "HAZEL", "IVY", "JUNIPER")
FIRST = ("AVERY", "BLAKE", "CASEY", "DREW", "EMERY", "FINLEY", "GRAY", "HARPER", "INDY", "JESSIE")


@dataclass(frozen=True)
class Patient:
    last: str
    first: str
    member_id: str
    mrn: str
    birth_date: str


def patient(rng: random.Random, n: int) -> Patient:
    return Patient(
        last="SYNTH" + rng.choice(LAST),
        first=rng.choice(FIRST),
        member_id=f"ZZ{rng.randrange(10**9):09d}",
        mrn=f"SMRN{n:08d}",
        birth_date=f"19{rng.randint(30, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
    )
