"""A synthetic payer's remittance as FHIR R4 resources, from the same payment sets the 835 writer writes.

Each ``PaymentSet`` becomes one ``PaymentReconciliation`` and one ``ExplanationOfBenefit`` a claim, mapped
back by ``revcycle.fhir.remittance`` to the records its 835 gives (the parity test holds the two routes to the
same ERP rows).  Resources carry a member id as a logical reference, never a name or a birth date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from revcycle.fhir import remittance as fr
from revcycle.synthetic.identities import PROVIDER_NAME, PROVIDER_NPI, Payer
from revcycle.synthetic.remittance_835 import Claim, PaymentSet, set_summary

_NUMBER = re.compile(r'"\\u0000(-?[0-9.]+)\\u0000"')


def dumps(resource: dict) -> str:
    """One resource as one NDJSON line, its Decimals written as exact JSON numbers."""

    def exact(value):
        if isinstance(value, Decimal):
            return f"\x00{value}\x00"
        raise TypeError(type(value).__name__)

    return _NUMBER.sub(r"\1", json.dumps(resource, default=exact, separators=(",", ":")))


def usd(amount: Decimal) -> dict:
    return {"value": amount, "currency": "USD"}


def concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _iso(date8: str) -> str:
    return f"{date8[:4]}-{date8[4:6]}-{date8[6:]}"


def _cas(group: str, reason: str, amount: Decimal) -> dict:
    return {"category": concept(fr.CAS_GROUP, group), "reason": concept(fr.CARC, reason), "amount": usd(amount)}


def claim_resource(claim: Claim, eob_id: str, payer: Payer, trace: str, day: dt.date) -> dict:
    payer_ref = {"identifier": {"value": "1" + payer.payer_id[1:]}, "display": payer.name}
    header = [_cas(g, r, a) for g, r, a in claim.claim_adjustments]
    if claim.status == "4":
        header.append({"category": concept(fr.C4BB_ADJUDICATION, "denialreason"), "reason": concept(fr.CARC, "50")})
    totals = [
        {"category": concept(fr.ADJUDICATION, "submitted"), "amount": usd(claim.charge)},
        {"category": concept(fr.ADJUDICATION, "benefit"), "amount": usd(claim.paid)},
    ]
    if claim.patient_responsibility:
        totals.append(
            {"category": concept(fr.C4BB_ADJUDICATION, "memberliability"), "amount": usd(claim.patient_responsibility)}
        )
    items = []
    for seq, ln in enumerate(claim.lines, start=1):
        system = fr.HCPCS if ln.procedure[0].isalpha() else fr.CPT
        item = {
            "extension": [{"url": fr.LINE_CONTROL, "valueString": ln.control_number}],
            "sequence": seq,
            "productOrService": concept(system, ln.procedure),
            "servicedDate": _iso(ln.service_date),
            "quantity": {"value": ln.units},
            "adjudication": [
                {"category": concept(fr.ADJUDICATION, "submitted"), "amount": usd(ln.charge)},
                {"category": concept(fr.ADJUDICATION, "benefit"), "amount": usd(ln.paid)},
                *(_cas(g, r, a) for g, r, a in ln.adjustments),
            ],
        }
        if ln.modifier:
            item["modifier"] = [concept(system, ln.modifier)]
        items.append(item)
    resource = {
        "resourceType": "ExplanationOfBenefit",
        "id": eob_id,
        "identifier": [{"system": fr.PAYER_CLAIM, "value": claim.payer_claim_control_number}],
        "status": "cancelled" if claim.status == "22" else "active",
        "type": concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"identifier": {"system": fr.MEMBER_ID, "value": claim.patient.member_id}},
        "billablePeriod": {"start": _iso(claim.lines[0].service_date), "end": _iso(claim.lines[0].service_date)},
        "created": day.isoformat(),
        "insurer": payer_ref,
        "provider": {"identifier": {"system": fr.NPI, "value": PROVIDER_NPI}, "display": PROVIDER_NAME},
        "claim": {"identifier": {"system": fr.PATIENT_CONTROL, "value": claim.patient_control_number}},
        "outcome": "complete",
        "precedence": 2 if claim.status == "2" else 1,
        "insurance": [{"focal": True, "coverage": {"display": "synthetic coverage"}}],
        "item": items,
        "total": totals,
        "payment": {"date": day.isoformat(), "identifier": {"value": trace}, "amount": usd(claim.paid)},
    }
    if header:
        resource["adjudication"] = header
    return resource


def payment_resources(pset: PaymentSet, payer: Payer, day: dt.date) -> tuple[dict, list[dict]]:
    """The payment's PaymentReconciliation and its ExplanationOfBenefits (ids unique per payment and claim)."""
    eobs = [
        claim_resource(c, f"eob-{pset.trace}-{n}", payer, pset.trace, day) for n, c in enumerate(pset.claims, start=1)
    ]
    details = [
        {
            "type": concept(fr.PAYMENT_TYPE, "payment"),
            "response": {"reference": f"ExplanationOfBenefit/{e['id']}"},
            "amount": e["payment"]["amount"],
        }
        for e in eobs
    ]
    for adj in pset.plb:
        details.append(
            {
                "type": {
                    "coding": [
                        {"system": fr.PAYMENT_TYPE, "code": "adjustment"},
                        {"system": fr.PLB_REASON, "code": adj.reason},
                    ]
                },
                "identifier": {"value": adj.reference},
                "date": f"{day.year}-12-31",
                "amount": usd(adj.amount),
            }
        )
    reconciliation = {
        "resourceType": "PaymentReconciliation",
        "id": f"pr-{pset.trace}",
        "extension": [{"url": fr.PAYMENT_METHOD, "valueCode": payer.method}],
        "status": "active",
        "created": day.isoformat(),
        "paymentIssuer": {"identifier": {"value": "1" + payer.payer_id[1:]}, "display": payer.name},
        "requestor": {"identifier": {"system": fr.NPI, "value": PROVIDER_NPI}, "display": PROVIDER_NAME},
        "outcome": "complete",
        "paymentDate": day.isoformat(),
        "paymentAmount": usd(pset.bpr02),
        "paymentIdentifier": {"value": pset.trace},
        "detail": details,
    }
    return reconciliation, eobs


FILES = ("PaymentReconciliation.ndjson", "ExplanationOfBenefit.ndjson")


def write_payments(folder: Path, payer: Payer, day: dt.date, psets: Iterable[PaymentSet], on_set=None) -> list[dict]:
    """The payer's day as the NDJSON files its FHIR server exports (one a resource type); the manifest's sets.

    A file's modification time is its resources' lastUpdated on the server, so a day generated again with the
    same content keeps its files as they were (the next incremental export does not see them as changed)."""
    from revcycle.adapters.storage import private_dir

    private_dir(folder.parent.parent)
    private_dir(folder.parent)
    private_dir(folder)
    summary = []
    staged = [folder / f".{name}.new" for name in FILES]
    with (
        open(staged[0], "w", encoding="utf-8") as prs,
        open(staged[1], "w", encoding="utf-8") as eobs,
    ):
        for pset in psets:
            reconciliation, claims = payment_resources(pset, payer, day)
            prs.write(dumps(reconciliation) + "\n")
            eobs.writelines(dumps(e) + "\n" for e in claims)
            if on_set:
                on_set(pset)
            summary.append({"isa13": "", **set_summary(pset, reconciliation["id"], payer, day)})
    settle_files(folder, list(zip(staged, FILES, strict=True)))
    return summary


def settle_files(folder: Path, staged: list[tuple[Path, str]]) -> None:
    """Each staged file in place of its name, unless the file there holds the same bytes (then it is kept as it
    was, its time too: the next incremental export does not see it as changed)."""
    for tmp, name in staged:
        target = folder / name
        if target.exists() and target.read_bytes() == tmp.read_bytes():
            tmp.unlink()
        else:
            tmp.replace(target)
