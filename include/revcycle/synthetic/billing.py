"""Synthetic open accounts-receivable snapshot from the billing system, and the 276s it should lead to.

The snapshot lists claims billed and not closed as of the business day, with
the subscriber demographics a 276 needs (synthetic: SYNTH* names, ZZ member
ids).  It mixes, per payer:
- claims paid in today's 835s (remittance exists: no inquiry),
- claims the payer reported pending today (277 P1, billed 33 days ago: inquiry),
- aging claims with no remittance and no status (billed 25-60 days ago: inquiry),
- young claims (billed 3-15 days ago: too early to ask).
The manifest keeps the patient control numbers that must be inquired, per payer.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from revcycle.synthetic.identities import PAYERS, PROVIDER_NPI, patient

COLUMNS = (
    "patient_control_number",
    "payer_id",
    "payer_claim_control_number",
    "billed_amount",
    "service_date_from",
    "service_date_to",
    "submitted_date",
    "billing_provider_npi",
    "subscriber_last_name",
    "subscriber_first_name",
    "member_id",
    "subscriber_birth_date",
    "subscriber_gender",
)

# Must agree with REVCYCLE_INQUIRY_AFTER_DAYS' default (21): aging claims are older, young ones newer.
AGING_DAYS = (25, 60)
YOUNG_DAYS = (3, 15)


def write_open_ar(
    path: Path, root: Path, day: dt.date, rng: random.Random, paid: list[dict], pending: list[dict]
) -> dict:
    """Write the snapshot; return its manifest entry with the expected inquiries per payer."""
    from revcycle.adapters.storage import sha256_file

    rows: list[dict] = []
    expected: dict[str, list[str]] = {p.payer_id: [] for p in PAYERS}

    def add(c: dict, submitted: dt.date, service: dt.date) -> None:
        p = patient(rng, len(rows))
        rows.append(
            {
                "patient_control_number": c["pcn"],
                "payer_id": c["payer"],
                "payer_claim_control_number": c.get("icn") or "",
                "billed_amount": c["charge"],
                "service_date_from": service.isoformat(),
                "service_date_to": service.isoformat(),
                "submitted_date": submitted.isoformat(),
                "billing_provider_npi": PROVIDER_NPI,
                "subscriber_last_name": p.last,
                "subscriber_first_name": p.first,
                "member_id": p.member_id,
                "subscriber_birth_date": dt.datetime.strptime(p.birth_date, "%Y%m%d").date().isoformat(),
                "subscriber_gender": rng.choice("MF"),
            }
        )

    for c in paid:
        service = dt.datetime.strptime(c["service_date"], "%Y%m%d").date()
        add(c, service + dt.timedelta(days=2), service)
    for c in pending:
        service = dt.datetime.strptime(c["service_date"], "%Y%m%d").date()
        add(c, service + dt.timedelta(days=2), service)
        expected[c["payer"]].append(c["pcn"])
    for i, payer in enumerate(PAYERS):
        n = max(2, len([c for c in paid if c["payer"] == payer.payer_id]) // 5)
        for k in range(n):
            age = rng.randint(*AGING_DAYS)
            charge = str(Decimal(rng.randint(5000, 250000)) / 100)
            c = {
                "pcn": f"AGE{i}{k:07d}",
                "payer": payer.payer_id,
                "charge": charge,
                "icn": f"ICNA{i}{k:08d}" if k % 2 else "",
            }
            add(c, day - dt.timedelta(days=age), day - dt.timedelta(days=age + 2))
            expected[payer.payer_id].append(c["pcn"])
            young = rng.randint(*YOUNG_DAYS)
            add(
                {"pcn": f"NEW{i}{k:07d}", "payer": payer.payer_id, "charge": charge},
                day - dt.timedelta(days=young),
                day - dt.timedelta(days=young + 1),
            )
    rng.shuffle(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return {
        "path": str(path.relative_to(root)),
        "type": "open_ar",
        "sha256": sha256_file(path),
        "rows": len(rows),
        "expected_inquiries": {k: sorted(v) for k, v in expected.items()},
    }
