"""FHIR R4 ``ClaimResponse`` resources to the claim status events the 277 route fills
(``revcycle.x12.claim_status``).

A claim's status in FHIR is a ``ClaimResponse``; the payer's X12 claim status codes travel as its header
adjudications, categorised with the X12 external code lists the 277 uses (507, claim status category;
508, claim status), as X12-to-FHIR mappings carry them:

| canonical (277) | FHIR ``ClaimResponse`` |
|---|---|
| payer (NM1*PR NM109), name | ``insurer.identifier.value``, ``insurer.display`` |
| provider (NM1*1P NM109) | ``requestor.identifier.value`` |
| member (NM1*IL NM109), tokenised | ``patient.identifier.value`` |
| patient control number (TRN02) | ``request.identifier.value`` (the Claim it answers) |
| payer claim control number (REF*1K) | ``identifier`` of system ``PAYER_CLAIM`` |
| STC01 / STC10 / STC11: category, status, entity | each ``adjudication`` with a 507 ``category``: 508 ``reason``, entity in extension ``STATUS_ENTITY`` |
| status date (STC02) | ``created`` |
| charge (STC04) | ``total`` submitted |
| payment (STC05), check date (STC08), check number (STC09) | ``payment.amount``, ``payment.date``, ``payment.identifier`` |
| adjudication date (STC06) | ``created`` of a response whose ``outcome`` is complete (R4 has no element for it) |
| free text (STC12) | ``disposition``: only that there is one, never its words |

Every status is at claim level: a ``ClaimResponse`` item carries no service code, so line-level statuses are
not read from it.  Service dates (DTP*472) have no place in a ``ClaimResponse`` and stay empty.

Keys come from business identity: payer, claim, status date and the composite's place, so the same response
exported again is the same event.  A response that breaks a rule is rejected with a specific reason; the
file's other responses go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from revcycle.domain.claim_status_set import StatusSet
from revcycle.domain.keys import business_key, joined_key
from revcycle.domain.phi import tokenise
from revcycle.fhir.ndjson import Rejected, Resource
from revcycle.fhir.remittance import (
    ADJUDICATION,
    BASE,
    PATIENT_CONTROL,
    PAYER_CLAIM,
    PaymentRefused,
    coding,
    extension_value,
    fhir_date,
    money,
)

STATUS_CATEGORY = "https://codesystem.x12.org/external/507"
STATUS_CODE = "https://codesystem.x12.org/external/508"
STATUS_ENTITY = f"{BASE}/StructureDefinition/x12-status-entity"
IMPLEMENTATION = "FHIR-R4"


@dataclass
class MappedStatuses:
    status_set: StatusSet | None = None
    rejected: list[Rejected] = field(default_factory=list)
    outcomes: int = 0  # OperationOutcome lines, counted, not mapped


def map_statuses(resources: Iterable[Resource | Rejected]) -> MappedStatuses:
    """Every ``ClaimResponse`` of the file as claim-level status events, in file order; refused lines kept."""
    out = MappedStatuses()
    events: list[dict] = []
    claims = 0
    sender = None
    for item in resources:
        if isinstance(item, Rejected):
            out.rejected.append(item)
            continue
        if item.resource_type == "OperationOutcome":
            out.outcomes += 1
            continue
        if item.resource_type != "ClaimResponse":
            out.rejected.append(
                Rejected(item.line, item.resource_type, item.id, "UNKNOWN_RESOURCE_TYPE", f"line {item.line}")
            )
            continue
        try:
            mapped = _response(item.body, claims + 1)
        except PaymentRefused as exc:
            out.rejected.append(
                Rejected(item.line, "ClaimResponse", item.id, exc.reason, f"line {item.line}: {exc.where}")
            )
            continue
        claims += 1
        events.extend(mapped)
        sender = sender or mapped[0]["payer_id"]
    if events:
        sset = StatusSet(sender or "", "", "", "0001", IMPLEMENTATION)
        sset.events, sset.claims = events, claims
        out.status_set = sset
    return out


def _response(body: dict, claim_seq: int) -> list[dict]:
    where = f"ClaimResponse/{str(body.get('id', ''))[:64]}"
    insurer = body.get("insurer") or {}
    payer = (insurer.get("identifier") or {}).get("value")
    pcn = ((body.get("request") or {}).get("identifier") or {}).get("value")
    if not payer:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.insurer.identifier.value (the payer)")
    if not pcn:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.request.identifier.value (the claim)")
    if (body.get("request") or {}).get("identifier", {}).get("system") not in (None, PATIENT_CONTROL):
        raise PaymentRefused("BAD_REFERENCE", f"{where}.request does not name a patient control number")
    created = fhir_date(body.get("created"))
    statuses = [
        (
            coding(a.get("category"), STATUS_CATEGORY),
            coding(a.get("reason"), STATUS_CODE),
            extension_value(a, STATUS_ENTITY),
        )
        for a in body.get("adjudication", ())
        if coding(a.get("category"), STATUS_CATEGORY)
    ]
    if not statuses:
        raise PaymentRefused("NO_STATUS", f"{where}: no adjudication with an X12 claim status category (507)")
    charge = None
    for t in body.get("total", ()):
        if coding(t.get("category"), ADJUDICATION) == "submitted":
            charge = money(t.get("amount"), f"{where}.total[submitted]")
    payment = body.get("payment")
    paid = money(payment.get("amount"), f"{where}.payment.amount") if payment else None
    icn = next((i.get("value") for i in body.get("identifier", ()) if i.get("system") == PAYER_CLAIM), None)
    identity = business_key("fhir-claim-status", payer, pcn, icn, created.isoformat())
    common = {
        "status_set_key": identity,
        "interchange_sender_id": payer,
        "interchange_control_number": None,
        "transaction_control_number": "0001",
        "implementation": IMPLEMENTATION,
        "level": "claim",
        "hl_id": None,
        "stc_seq": claim_seq,  # one status "segment" a response
        "payer_id": payer,
        "payer_name": insurer.get("display"),
        "receiver_id": None,
        "provider_id": ((body.get("requestor") or {}).get("identifier") or {}).get("value"),
        "member_token": tokenise(((body.get("patient") or {}).get("identifier") or {}).get("value")),
        "trace_number": None,
        "patient_control_number": pcn,
        "payer_claim_control_number": icn,
        "claim_seq": claim_seq,
        "line_seq": None,
        "procedure_qualifier": None,
        "procedure_code": None,
        "line_charge_amount": None,
        "code_list_qualifier": None,
        "status_date": created,
        "action_code": None,
        "charge_amount": charge,
        "payment_amount": paid,
        "adjudication_date": created if body.get("outcome") == "complete" else None,
        "payment_method": None,
        "check_date": fhir_date(payment.get("date")) if payment else None,
        "check_number": (payment.get("identifier") or {}).get("value") if payment else None,
        "has_free_text": bool(body.get("disposition")),
        "service_date": None,
        "service_date_end": None,
    }
    return [
        {
            **common,
            "claim_status_event_key": joined_key(f"{identity}\x1f{number}"),
            "composite_seq": number,
            "category_code": category,
            "status_code": status,
            "entity_code": entity,
        }
        for number, (category, status, entity) in enumerate(statuses, start=1)
    ]
