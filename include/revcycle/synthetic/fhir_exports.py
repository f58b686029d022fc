"""One synthetic FHIR export per route, as one NDJSON file: what the bench and the structure tests read."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

from revcycle.synthetic import claim_status_277, fhir_remittance, fhir_supply, remittance_835, supply
from revcycle.synthetic.identities import PAYERS

ROUTES = ("remittance", "claim_status", "supply")
DAY = dt.date(2026, 11, 24)


def export_file(route: str, count: int, work: Path, seed: int = 1) -> Path:
    """The route's export of about ``count`` claims or usages (remittance: PaymentReconciliation and
    ExplanationOfBenefit; claim status: ClaimResponse; supply: ChargeItem and Device), its output files joined
    as the Bulk Data transport lands them, written under ``work``."""
    store = work / route
    store.mkdir()
    if route == "remittance":
        psets = remittance_835.payment_sets(random.Random(seed), PAYERS[0], DAY, 1, count, itertools.count(1))
        fhir_remittance.write_payments(store / "out", PAYERS[0], DAY, psets)
        parts = [store / "out" / name for name in fhir_remittance.FILES]
    elif route == "claim_status":
        claims = [
            {"payer": PAYERS[0].payer_id, "pcn": f"P{n:08d}", "icn": f"I{n:010d}", "charge": "120.00"}
            | {"paid": "0" if n % 5 == 0 else "96.00", "status": "4" if n % 5 == 0 else "1", "service_date": "20261101"}
            for n in range(count)
        ]
        (store / "x12").mkdir()
        entries = claim_status_277.write_277_files(
            store / "x12", store, DAY, random.Random(seed), claims, 1, None, (PAYERS[0].payer_id,)
        )
        parts = [store / e["path"] for e in entries if e["type"] == "fhir_claim_status"]
    elif route == "supply":
        for sub in ("supply", "invoices"):
            (store / sub).mkdir()
        supply.write_supply_files(store, DAY, random.Random(seed), count + count // 9 + 1, fhir_share=1.0)
        parts = [fhir_supply.day_folder(store, DAY) / name for name in fhir_supply.FILES]
    else:
        raise ValueError(f"unknown FHIR route {route!r} (one of {', '.join(ROUTES)})")
    path = work / f"{route}.ndjson"
    path.write_bytes(b"".join(p.read_bytes() for p in parts))
    return path
