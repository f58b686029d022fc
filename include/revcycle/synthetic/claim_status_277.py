"""Synthetic 277 claim status responses (005010X212) for a sample of the day's claims.

One file per payer with one transaction set; the HL hierarchy is payer (20) ->
information receiver (21) -> service provider (19) -> subscriber (22) per claim.
Paid claims get F1 (finalized/payment) with the check/EFT details, denials F2;
a few claims with no remittance yet get P1 (pending) so claim status has
something to chase.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from revcycle.synthetic import fhir_claim_status
from revcycle.synthetic.identities import PAYERS, PROVIDER_NAME, PROVIDER_NPI, RECEIVER_ID, patient
from revcycle.x12.writer import Envelope, X12Writer, fmt_amount

SAMPLE_RATE = 0.2


def write_277_files(
    folder: Path,
    root: Path,
    day: dt.date,
    rng: random.Random,
    candidates: list[dict],
    first_control: int,
    pending_out: list[dict] | None = None,
    fhir_payers: tuple[str, ...] = (),
) -> list[dict]:
    """One 277 per payer; the pending claims invented here (billed, unpaid) are appended to ``pending_out``.
    A payer in ``fhir_payers`` answers with the same statuses as FHIR ``ClaimResponse`` resources instead, in
    ``<root>/fhir_payer/<payer>/<day>/`` (the store its FHIR server exports from)."""
    from revcycle.adapters.storage import sha256_file

    by_payer: dict[str, list[dict]] = defaultdict(list)
    for c in candidates:  # already sampled at SAMPLE_RATE by the caller
        by_payer[c["payer"]].append(c)
    entries = []
    d8 = day.strftime("%Y%m%d")
    for i, payer in enumerate(PAYERS):
        claims = by_payer.get(payer.payer_id, [])
        # Pending claims: billed, no remittance yet.
        for k in range(max(1, len(claims) // 10)):
            claims.append(
                {
                    "payer": payer.payer_id,
                    "pcn": f"PND{i}{k:07d}",
                    "icn": f"ICNP{i}{k:08d}",
                    "charge": str(Decimal(rng.randint(5000, 90000)) / 100),
                    "paid": "0",
                    "status": "pending",
                    "service_date": (day - dt.timedelta(days=35)).strftime("%Y%m%d"),
                }
            )
            if pending_out is not None:
                pending_out.append(claims[-1])
        # The payer reports one claim paid that no 835 ever brings (an ERA to chase).
        paid_without_era = []
        if i == 0:
            claims.append(
                {
                    "payer": payer.payer_id,
                    "pcn": f"PNE{i}{day:%y%m%d}01",
                    "icn": f"ICNE{i}{day:%y%m%d}01",
                    "charge": "410.00",
                    "paid": "287.50",
                    "status": "1",
                    "service_date": (day - dt.timedelta(days=40)).strftime("%Y%m%d"),
                }
            )
            paid_without_era.append(claims[-1]["pcn"])
        control = first_control + 500 + i
        summary = {
            "claims": len(claims),
            "stc": len(claims),
            "pending": sum(1 for c in claims if c["status"] == "pending"),
            "paid_without_remittance": paid_without_era,
        }
        if payer.payer_id in fhir_payers:
            # The same patients drawn as the 277 draws them: the rest of the day stays byte for byte the same.
            answers = [(c, patient(rng, n).member_id) for n, c in enumerate(claims)]
            path = fhir_claim_status.write_statuses(
                root / "fhir_payer" / payer.payer_id / day.isoformat(), payer, day, answers
            )
            rel = str(path.relative_to(root))
            entries.append(
                {"path": rel, "type": "fhir_claim_status", "sha256": sha256_file(path), "exports": [rel], **summary}
            )
            continue
        path = folder / f"status_{payer.payer_id}_{d8}.277"
        stc_count = 0
        with open(path, "w", encoding="ascii", newline="") as out:
            w = X12Writer(out, payer.delimiters, True)
            env = Envelope("ZZ", payer.payer_id, "ZZ", RECEIVER_ID, day.strftime("%y%m%d"), "0900", control)
            w.isa(env)
            w.gs("HN", payer.payer_id, RECEIVER_ID, d8, "0900", control, "005010X212")
            w.st("277", "0001", "005010X212")
            w.seg("BHT", "0010", "08", f"R{control}", d8, "0900", "DG")
            w.seg("HL", "1", "", "20", "1")
            w.seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id)
            w.seg("HL", "2", "1", "21", "1")
            w.seg("NM1", "41", "2", PROVIDER_NAME, "", "", "", "", "46", RECEIVER_ID)
            w.seg("HL", "3", "2", "19", "1")
            w.seg("NM1", "1P", "2", PROVIDER_NAME, "", "", "", "", "XX", PROVIDER_NPI)
            hl = 3
            for n, c in enumerate(claims):
                hl += 1
                p = patient(rng, n)
                w.seg("HL", str(hl), "3", "22", "0")
                w.seg("NM1", "IL", "1", p.last, p.first, "", "", "", "MI", p.member_id)
                w.seg("TRN", "2", c["pcn"])
                charge = fmt_amount(Decimal(c["charge"]))
                if c["status"] == "pending":
                    w.seg("STC", w.comp("P1", "20", "PR"), d8, "", charge)
                elif c["status"] == "4":
                    w.seg("STC", w.comp("F2", "88", "PR"), d8, "", charge, "0", d8)
                else:
                    w.seg("STC", w.comp("F1", "65", "PR"), d8, "", charge, fmt_amount(Decimal(c["paid"])), d8)
                stc_count += 1
                w.seg("REF", "1K", c["icn"])
                w.seg("DTP", "472", "RD8", f"{c['service_date']}-{c['service_date']}")
            w.se("0001")
            w.ge(control)
            w.iea(env)
        entries.append(
            {
                "path": str(path.relative_to(root)),
                "type": "277",
                "sha256": sha256_file(path),
                "interchanges": [f"{control:09d}"],
                **summary,
                "stc": stc_count,
            }
        )
    return entries
