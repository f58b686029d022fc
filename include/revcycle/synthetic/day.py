"""Generate a whole synthetic business day into an inbound folder, with a ground-truth manifest.

Layout (what the landing step watches):
    <inbound>/remittance/*.835      X12 835 ERA, one or more per payer
    <inbound>/claim_status/*.277    X12 277 claim status responses
    <inbound>/supply/*.hl7          HL7 v2 DFT^P03 supply/implant usage
    <inbound>/supply/*.csv          operating-room usage export
    <inbound>/invoices/*.csv        supplier invoices
    <inbound>/bank/*.csv            bank deposit lines for the day
    <inbound>/billing/*.csv         open accounts-receivable snapshot from the billing system
    <inbound>/fhir_payer/<payer>/<date>/*.ndjson  a FHIR payer's resources (served by its Bulk Data server)
    <inbound>/_manifest/<date>.json ground truth (never landed)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

from revcycle.adapters.storage import PRIVATE_FILE, private_dir, sha256_file
from revcycle.synthetic import billing, claim_status_277, fhir_remittance, remittance_835, supply
from revcycle.synthetic.identities import PAYERS

ProgressFn = Callable[[str, int], None]


def _share(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class GeneratedDayConflict(ValueError):
    """The inbound folder holds this business day generated with other parameters."""


def refuse_a_different_day(out: Path, day: dt.date, claims: int, seed: int, supply_messages: int | None) -> None:
    path = out / "_manifest" / f"{day.isoformat()}.json"
    if not path.exists():
        return
    before = json.loads(path.read_text())
    asked = {"claims": claims, "seed": seed, "supply_messages": supply_messages}
    had = {k: before.get(k) for k in asked}
    if had != asked:
        raise GeneratedDayConflict(
            f"{day} was generated into {out} already with "
            + ", ".join(f"{k} {v}" for k, v in had.items() if v is not None)
            + "; its files would mix with a day of other parameters. Start over with `revcycle reset`, "
            "or run the day again with the same parameters."
        )


def generate_day(
    out: Path,
    day: dt.date,
    claims: int,
    seed: int,
    supply_messages: int | None = None,
    progress: ProgressFn | None = None,
    fhir_payers: tuple[str, ...] = (),
    fhir_ehr_share: float = 0.0,
) -> dict:
    """Write the day's files under ``out`` and return (and save) the manifest.  A day already generated
    there with other parameters is refused (``GeneratedDayConflict``): its files would mix with these.

    The payers named in ``fhir_payers`` send the same payments as FHIR resources instead of an 835: they go
    to ``<out>/fhir_payer/<payer>/<day>/`` (the store the synthetic FHIR server exports from), not to an
    inbound folder; the rest of the day is unchanged, so both routes give the same ERP rows.  ``fhir_ehr_share``
    of the OR's DFT usage goes as the EHR's FHIR ChargeItems to ``<out>/fhir_ehr/<day>/`` the same way."""
    refuse_a_different_day(out, day, claims, seed, supply_messages)
    rng = random.Random(f"{seed}:{day.isoformat()}")
    tick = progress or (lambda what, n: None)
    for sub in ("remittance", "claim_status", "supply", "invoices", "bank", "billing", "_manifest"):
        private_dir(out / sub)  # the day's files name (synthetic) patients: the owner's and group's only
    manifest: dict = {
        "business_date": day.isoformat(),
        "seed": seed,
        "claims": claims,
        "supply_messages": supply_messages,
        "files": [],
    }

    # 835: claims spread over payers; each payer's file may hold several interchanges.
    set_counter = itertools.count(1)
    control = 100000000 + (day.toordinal() % 10000) * 10000
    next_claim = 1
    deposits = []
    status_candidates: list[dict] = []
    reversals: list[str] = []
    for payer, payer_claims in zip(PAYERS, _share(claims, len(PAYERS)), strict=True):
        for file_no, file_claims in enumerate(_share(payer_claims, payer.files), start=1):
            per_isa = _share(file_claims, payer.interchanges_per_file)
            interchanges = []
            for isa_claims in per_isa:
                # Lazy: each payment set is generated, written and dropped in turn (bounded memory).
                interchanges.append(remittance_835.payment_sets(rng, payer, day, next_claim, isa_claims, set_counter))
                next_claim += isa_claims

            def on_set(pset, payer=payer):
                tick("835 claims", len(pset.claims))
                reversals.extend(c.patient_control_number for c in pset.claims if c.status == "22")
                # Only the sampled claims are kept for the 277s.
                status_candidates.extend(
                    {
                        "payer": payer.payer_id,
                        "pcn": c.patient_control_number,
                        "icn": c.payer_claim_control_number,
                        "charge": str(c.charge),
                        "paid": str(c.paid),
                        "status": c.status,
                        "service_date": c.lines[0].service_date,
                    }
                    for c in pset.claims
                    if c.status != "22" and rng.random() < claim_status_277.SAMPLE_RATE
                )

            if payer.payer_id in fhir_payers:
                folder = out / "fhir_payer" / payer.payer_id / day.isoformat()
                sets_summary = fhir_remittance.write_payments(
                    folder, payer, day, itertools.chain.from_iterable(interchanges), on_set
                )
                manifest["files"].append(_fhir_entry(folder, out, sets_summary))
            else:
                name = f"era_{payer.payer_id}_{day:%Y%m%d}_{file_no}.835"
                path = out / "remittance" / name
                sets_summary = remittance_835.write_835_file(path, payer, day, interchanges, control, on_set)
                manifest["files"].append(_file_entry(path, out, "835", sets_summary))
            # The same control numbers are used up either way: the rest of the day is byte for byte the same.
            control += len(interchanges)
            for s in sets_summary:
                deposits.append(
                    {
                        "payer_id": s["payer_id"],
                        "trace": s["trace"],
                        "amount": s["bpr02"],
                        "method": s["method"],
                        "payment_date": s["payment_date"],
                    }
                )

    # 277: a status response for a sample of the claims, per payer.
    pending: list[dict] = []
    manifest["files"].extend(
        claim_status_277.write_277_files(
            out / "claim_status", out, day, rng, status_candidates, control, pending, fhir_payers
        )
    )
    tick("277 responses", len(status_candidates))
    # The billing system's open A/R: what the 276 inquiries are chosen from.
    manifest["files"].append(
        billing.write_open_ar(out / "billing" / f"open_ar_{day:%Y%m%d}.csv", out, day, rng, status_candidates, pending)
    )

    # Supply usage: HL7 DFT^P03 and a CSV export, supplier invoices, then the bank file.
    n_supply = supply_messages if supply_messages is not None else max(5, claims // 2)
    manifest["files"].extend(supply.write_supply_files(out, day, rng, n_supply, fhir_ehr_share))
    tick("supply messages", n_supply)
    deposits, cash_breaks = seed_cash_breaks(deposits)
    manifest["files"].append(supply.write_bank_file(out / "bank" / f"deposits_{day:%Y%m%d}.csv", out, day, deposits))

    # Ground truth for reconciliation: every break seeded on purpose, by category and reference.
    open_ar = next(f for f in manifest["files"] if f["type"] == "open_ar")
    statuses = [f for f in manifest["files"] if f["type"] in ("277", "fhir_claim_status")]
    invoices = next(f for f in manifest["files"] if f["type"] == "invoice_csv")
    manifest["breaks"] = sorted(
        cash_breaks
        + [{"category": "claim_reversal", "reference": pcn} for pcn in sorted(set(reversals))]
        + [
            {"category": "claim_status_paid_no_remittance", "reference": pcn}
            for f in statuses
            for pcn in f.get("paid_without_remittance", [])
        ]
        + [
            {"category": "claim_no_remittance", "reference": pcn}
            for pcns in open_ar["expected_inquiries"].values()
            for pcn in pcns
        ]
        + [{"category": b["kind"], "reference": b["serial"]} for b in invoices["breaks"]],
        key=lambda b: (b["category"], b["reference"]),
    )

    manifest["totals"] = _totals(manifest["files"])
    (out / "_manifest" / f"{day.isoformat()}.json").write_text(json.dumps(manifest, indent=2))
    for f in manifest["files"]:
        for path in f.get("exports", [f["path"]]):
            (out / path).chmod(PRIVATE_FILE)
    return manifest


def seed_cash_breaks(deposits: list[dict]) -> tuple[list[dict], list[dict]]:
    """Bank lines with three seeded events: one payment never deposited, one deposited 25.00 short, and one
    deposited in two lines (a split deposit: matched, not a break).  Zero payments have no deposit at all."""
    from decimal import Decimal

    lines = [d for d in deposits if Decimal(d["amount"]) > 0]
    by_payer: dict[str, list[dict]] = {}
    for d in lines:
        by_payer.setdefault(d["payer_id"], []).append(d)
    picks = [v[0] for _, v in sorted(by_payer.items())]
    if len(picks) < 3:
        return lines, []
    missing, short, split = picks[0], picks[1], picks[2]
    out, breaks = [], []
    for d in lines:
        ref = f"{d['payer_id']}|{d['trace']}"
        if d is missing:
            breaks.append({"category": "payment_without_deposit", "reference": ref})
            continue
        if d is short:
            breaks.append({"category": "deposit_amount_difference", "reference": ref})
            out.append({**d, "amount": str(Decimal(d["amount"]) - Decimal("25.00"))})
            continue
        if d is split:
            first = (Decimal(d["amount"]) * Decimal("0.6")).quantize(Decimal("0.01"))
            out += [{**d, "amount": str(first)}, {**d, "amount": str(Decimal(d["amount"]) - first)}]
            continue
        out.append(d)
    return out, breaks


def _file_entry(path: Path, root: Path, kind: str, sets: list[dict]) -> dict:
    from decimal import Decimal

    return {
        "path": str(path.relative_to(root)),
        "type": kind,
        "sha256": sha256_file(path),
        "interchanges": sorted({s["isa13"] for s in sets}),
        "transactions": sets,
        "claims": sum(s["claims"] for s in sets),
        "bpr02": str(sum((Decimal(s["bpr02"]) for s in sets), Decimal("0"))),
        "sum_clp04": str(sum((Decimal(s["sum_clp04"]) for s in sets), Decimal("0"))),
        "sum_plb": str(sum((Decimal(s["sum_plb"]) for s in sets), Decimal("0"))),
    }


def _fhir_entry(folder: Path, root: Path, sets: list[dict]) -> dict:
    """A FHIR payer's day in the manifest: its payments as an 835 file's are, and the files its server exports."""
    entry = _file_entry(folder / "PaymentReconciliation.ndjson", root, "fhir_remittance", sets)
    entry["exports"] = [str((folder / name).relative_to(root)) for name in fhir_remittance.FILES]
    return entry


def _totals(files: list[dict]) -> dict:
    from decimal import Decimal

    era = [f for f in files if f["type"] in ("835", "fhir_remittance")]
    bank = [f for f in files if f["type"] == "bank"]
    return {
        "era_files": sum(1 for f in era if f["type"] == "835"),
        "fhir_payments": sum(len(f["transactions"]) for f in era if f["type"] == "fhir_remittance"),
        "claims": sum(f["claims"] for f in era),
        "bpr02": str(sum((Decimal(f["bpr02"]) for f in era), Decimal("0"))),
        "sum_clp04": str(sum((Decimal(f["sum_clp04"]) for f in era), Decimal("0"))),
        "sum_plb": str(sum((Decimal(f["sum_plb"]) for f in era), Decimal("0"))),
        "deposits": str(sum((Decimal(f["total"]) for f in bank), Decimal("0"))),
    }
