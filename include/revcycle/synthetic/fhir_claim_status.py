"""A synthetic payer's claim statuses as FHIR R4 ``ClaimResponse`` resources, from the same claims the 277
writer answers for (``revcycle.synthetic.claim_status_277``), mapped back by ``revcycle.fhir.claim_status`` to
the events its 277 gives.  A resource carries a member id as a logical reference, never a name or birth date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from revcycle.fhir import claim_status as fcs
from revcycle.fhir import remittance as fr
from revcycle.synthetic.fhir_remittance import concept, dumps, settle_files, usd
from revcycle.synthetic.identities import PROVIDER_NAME, PROVIDER_NPI, Payer

FILE = "ClaimResponse.ndjson"
# The 277 writer's STC01 for each kind of claim: (category, status, entity).
STATUSES = {"pending": ("P1", "20", "PR"), "4": ("F2", "88", "PR")}
PAID = ("F1", "65", "PR")


def claim_response(claim: dict, payer: Payer, day: dt.date, member_id: str) -> dict:
    """One claim's status as its 277 gives it: pending (P1) with the charge only; denied (F2) and paid (F1) with
    the payment and an adjudication the day of the response."""
    category, status, entity = STATUSES.get(claim["status"], PAID)
    resource = {
        "resourceType": "ClaimResponse",
        "id": f"cr-{payer.payer_id}-{claim['pcn']}-{day:%Y%m%d}",
        "identifier": [{"system": fr.PAYER_CLAIM, "value": claim["icn"]}],
        "status": "active",
        "type": concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"identifier": {"system": fr.MEMBER_ID, "value": member_id}},
        "created": day.isoformat(),
        "insurer": {"identifier": {"value": payer.payer_id}, "display": payer.name},
        "requestor": {"identifier": {"system": fr.NPI, "value": PROVIDER_NPI}, "display": PROVIDER_NAME},
        "request": {"identifier": {"system": fr.PATIENT_CONTROL, "value": claim["pcn"]}},
        "outcome": "queued" if claim["status"] == "pending" else "complete",
        "adjudication": [
            {
                "extension": [{"url": fcs.STATUS_ENTITY, "valueCode": entity}],
                "category": concept(fcs.STATUS_CATEGORY, category),
                "reason": concept(fcs.STATUS_CODE, status),
            }
        ],
        "total": [{"category": concept(fr.ADJUDICATION, "submitted"), "amount": usd(Decimal(claim["charge"]))}],
    }
    if claim["status"] != "pending":
        paid = Decimal("0") if claim["status"] == "4" else Decimal(claim["paid"])
        resource["payment"] = {
            "type": concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
            "amount": usd(paid),
        }
    return resource


def write_statuses(folder: Path, payer: Payer, day: dt.date, answers: list[tuple[dict, str]]) -> Path:
    """The payer's day of claim statuses as the NDJSON file its FHIR server exports; ``answers`` are the
    claims with their members' ids.  Rewritten only when its content changed (its time is lastUpdated)."""
    from revcycle.adapters.storage import private_dir

    for f in (folder.parent.parent, folder.parent, folder):
        private_dir(f)
    staged = folder / f".{FILE}.new"
    with open(staged, "w", encoding="utf-8") as out:
        out.writelines(dumps(claim_response(c, payer, day, member)) + "\n" for c, member in answers)
    settle_files(folder, [(staged, FILE)])
    return folder / FILE
