"""GS1 identifiers: GTIN check digits and the device identifier inside a UDI."""

from __future__ import annotations

import re
from functools import lru_cache

_GS1_DI = re.compile(r"^\(?01\)?(\d{14})")


@lru_cache(maxsize=8192)
def gtin_check_ok(gtin: str) -> bool:
    """True for a GTIN-8/12/13/14 whose last digit is the GS1 mod-10 check digit of the others."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    body, check = gtin[:-1], int(gtin[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gtin14(value: str) -> str:
    """A GTIN padded to 14 digits (the form the item master keys on); other text unchanged."""
    return value.zfill(14) if value.isdigit() and len(value) in (8, 12, 13, 14) else value


def device_identifier(udi: str) -> str:
    """The GTIN of a GS1 UDI in human-readable form ``(01)<14 digits>(17)...``; a bare DI unchanged."""
    m = _GS1_DI.match(udi.strip())
    return m.group(1) if m else udi.strip()


# A supply usage row's device columns before a device segment or resource fills them (HL7 ZIM/PRT, FHIR
# Device); the flags left empty are the item master's.
USAGE_WITHOUT_DEVICE = dict.fromkeys(
    ("gtin", "udi", "lot", "serial", "expiry_date", "implant_flag", "consignment_flag")
)
