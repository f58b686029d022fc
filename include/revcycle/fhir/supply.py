"""FHIR R4 ``ChargeItem`` and ``SupplyDelivery`` resources, with the ``Device`` each names, to the supply usage
rows the HL7 DFT route fills (``revcycle.hl7.dft``), one row a charge or delivery, before item master
normalisation.

| canonical (DFT) | FHIR |
|---|---|
| transaction id (FT1-2) | ``identifier`` of system ``TRANSACTION_ID`` (the charge's business identity) |
| transaction date (FT1-4) | ``occurrenceDateTime`` (or ``occurrencePeriod.start``) |
| item code, text, system (FT1-7) | ``code.coding[0]``: code, display; system ``VENDOR_ITEM`` is the v2 ``VENDOR`` |
| quantity (FT1-10), one unit when empty | ``quantity.value`` |
| extended amount (FT1-11) | ``priceOverride`` (else unit price x quantity) |
| unit amount (FT1-12) | extension ``UNIT_PRICE`` (``valueMoney``): R4 has no element for a charge's unit price |
| department (FT1-13) | ``costCenter.identifier.value`` |
| performed by (FT1-20) | ``performer[0].actor.identifier.value`` |
| patient (PID-3), visit (PV1-19), tokenised | ``subject.identifier.value``, ``context.identifier.value`` |
| surgical case (ZIM-8) | ``service`` reference with identifier of system ``SURGICAL_CASE`` |
| UDI / GTIN (ZIM-2), lot, serial, expiry (ZIM-3..5) | the ``Device`` of ``productReference``: ``udiCarrier`` (``carrierHRF``, else ``deviceIdentifier``), ``lotNumber``, ``serialNumber``, ``expirationDate`` |
| implant and consignment flags (ZIM-6, 7) | not in R4: the item master's, as for a CSV row that leaves them empty |

A ``SupplyDelivery`` to a patient is a usage with no charge of its own (a supply the EHR records as given
but bills elsewhere, or not at all): ``identifier``, ``occurrence``, ``patient``, ``destination`` (the
department), ``suppliedItem.quantity`` and its item, a code (``itemCodeableConcept``) or a ``Device``
(``itemReference``); the price is the item master's.  A delivery that is not ``completed`` did not happen
(``NOT_COMPLETED``).

A charge whose status is not ``billable`` or ``billed`` is not a usage (``NOT_A_CHARGE``).  The procedure code
(FT1-25) would be a ``Procedure`` resource, which this source does not read.  Keys come from the charge's
identifier, so the same charge exported again is the same row.  A charge that breaks a rule is rejected with a
specific reason; the file's other charges go on.  Patient and visit ids are tokenised; names, birth dates and
addresses are never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from revcycle.domain.gs1 import USAGE_WITHOUT_DEVICE, device_identifier, gtin14
from revcycle.domain.keys import business_key
from revcycle.domain.phi import tokenise
from revcycle.fhir.ndjson import Rejected, Resource
from revcycle.fhir.remittance import BASE, PaymentRefused, fhir_date, money

TRANSACTION_ID = f"{BASE}/sid/charge-transaction-id"
VENDOR_ITEM = f"{BASE}/sid/vendor-item-number"
SURGICAL_CASE = f"{BASE}/sid/surgical-case"
DEPARTMENT = f"{BASE}/sid/department"
PATIENT_MRN = f"{BASE}/sid/mrn"
VISIT = f"{BASE}/sid/visit-number"
UNIT_PRICE = f"{BASE}/StructureDefinition/unit-price"
CHARGES = ("billable", "billed")
CENTS = Decimal("0.01")


@dataclass
class MappedUsage:
    rows: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each row's line in the file
    rejected: list[Rejected] = field(default_factory=list)
    outcomes: int = 0  # OperationOutcome lines, counted, not mapped
    devices: int = 0


def _identifier(reference: dict | None) -> str | None:
    return ((reference or {}).get("identifier") or {}).get("value") or None


def map_usage(resources: Iterable[Resource | Rejected]) -> MappedUsage:
    """Every charge of the file as a usage row, in file order; the Devices they name looked up in the file."""
    out = MappedUsage()
    charges: list[Resource] = []
    devices: dict[str, Resource] = {}
    for item in resources:
        if isinstance(item, Rejected):
            out.rejected.append(item)
        elif item.resource_type == "OperationOutcome":
            out.outcomes += 1
        elif item.resource_type == "Device":
            devices[item.id] = item
        else:
            charges.append(item)
    out.devices = len(devices)
    for charge in charges:
        try:
            mapper = _delivery if charge.resource_type == "SupplyDelivery" else _charge
            out.rows.append(mapper(charge.body, len(out.rows) + 1, devices))
            out.lines.append(charge.line)
        except PaymentRefused as exc:
            out.rejected.append(
                Rejected(charge.line, charge.resource_type, charge.id, exc.reason, f"line {charge.line}: {exc.where}")
            )
    out.rejected.sort(key=lambda r: r.line)
    return out


def _transaction(body: dict, where: str) -> str:
    for i in body.get("identifier", ()):
        if i.get("system") == TRANSACTION_ID and i.get("value"):
            return i["value"]
    raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.identifier (the transaction id)")


def _with_device(reference: dict | None, devices: dict[str, Resource], row: dict, where: str) -> dict:
    if reference is not None:
        rtype, _, rid = (reference.get("reference") or "").rpartition("/")
        device = devices.get(rid) if rtype == "Device" else None
        if device is None:
            raise PaymentRefused("BAD_REFERENCE", f"{where} names no Device of the export")
        _device(device.body, row)
    return row


def _delivery(body: dict, seq: int, devices: dict[str, Resource]) -> dict:
    where = f"SupplyDelivery/{str(body.get('id', ''))[:64]}"
    if body.get("status") != "completed":
        raise PaymentRefused("NOT_COMPLETED", f"{where}.status is not completed")
    transaction = _transaction(body, where)
    supplied = body.get("suppliedItem") or {}
    coding = next(iter((supplied.get("itemCodeableConcept") or {}).get("coding", ())), {})
    reference = supplied.get("itemReference")
    if not coding.get("code") and reference is None:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.suppliedItem.item[x] (the item)")
    quantity = (supplied.get("quantity") or {}).get("value")
    row = _row(
        business_key("fhir-delivery", transaction),
        seq,
        transaction,
        body.get("occurrenceDateTime") or (body.get("occurrencePeriod") or {}).get("start"),
        coding,
        quantity,
        None,
        None,
        department=_identifier(body.get("destination")),
        performer=None,
        patient=_identifier(body.get("patient")),
        encounter=None,
        case=None,
    )
    return _with_device(reference, devices, row, f"{where}.suppliedItem.itemReference")


def _charge(body: dict, seq: int, devices: dict[str, Resource]) -> dict:
    where = f"ChargeItem/{str(body.get('id', ''))[:64]}"
    if body.get("status") not in CHARGES:
        raise PaymentRefused("NOT_A_CHARGE", f"{where}.status is not billable or billed")
    transaction = _transaction(body, where)
    coding = next(iter((body.get("code") or {}).get("coding", ())), {})
    if not coding.get("code"):
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.code.coding.code (the item)")
    quantity = (body.get("quantity") or {}).get("value")
    unit = None
    for ext in body.get("extension", ()):
        if ext.get("url") == UNIT_PRICE:
            unit = money(ext.get("valueMoney"), f"{where}.extension[unit-price]")
    extended = money(body["priceOverride"], f"{where}.priceOverride") if "priceOverride" in body else None
    performer = next(iter(body.get("performer", ())), {})
    case = next(
        (_identifier(s) for s in body.get("service", ()) if (s.get("identifier") or {}).get("system") == SURGICAL_CASE),
        None,
    )
    row = _row(
        business_key("fhir-charge", transaction),
        seq,
        transaction,
        body.get("occurrenceDateTime") or (body.get("occurrencePeriod") or {}).get("start"),
        coding,
        quantity,
        unit,
        extended,
        department=_identifier(body.get("costCenter")),
        performer=_identifier(performer.get("actor")),
        patient=_identifier(body.get("subject")),
        encounter=_identifier(body.get("context")),
        case=case,
    )
    return _with_device(body.get("productReference"), devices, row, f"{where}.productReference")


def _row(
    key: str,
    seq: int,
    transaction: str,
    occurred: str | None,
    coding: dict,
    quantity: object,
    unit: Decimal | None,
    extended: Decimal | None,
    *,
    department: str | None,
    performer: str | None,
    patient: str | None,
    encounter: str | None,
    case: str | None,
) -> dict:
    qty = Decimal(quantity) if quantity is not None else Decimal(1)
    if extended is None and unit is not None:
        extended = (unit * qty).quantize(CENTS)
    return {
        "usage_key": key,
        "source_format": "fhir",
        "message_control_id": None,
        "line_seq": seq,
        "transaction_id": transaction,
        "transaction_date": fhir_date(occurred),
        "transaction_type": "CG",
        "item_code": coding.get("code"),
        "item_text": coding.get("display"),
        "item_code_system": "VENDOR" if coding.get("system") == VENDOR_ITEM else coding.get("system"),
        "quantity": qty,
        "quantity_defaulted": quantity is None,
        "unit_of_measure": None,
        "unit_cost": unit,
        "charge_amount": extended,
        "department": department,
        "procedure_code": None,
        "procedure_modifiers": None,
        "performing_provider_id": performer,
        "ordering_provider_id": None,
        "patient_token": tokenise(patient),
        "encounter_token": tokenise(encounter),
        "case_id": case,
        **USAGE_WITHOUT_DEVICE,
    }


def _device(body: dict, row: dict) -> None:
    carrier = next(iter(body.get("udiCarrier", ())), {})
    udi = (carrier.get("carrierHRF") or carrier.get("deviceIdentifier") or "").strip()
    row["udi"] = udi or None
    row["gtin"] = gtin14(device_identifier(udi)) if udi else None
    row["lot"] = body.get("lotNumber") or None
    row["serial"] = body.get("serialNumber") or None
    row["expiry_date"] = fhir_date(body.get("expirationDate"))
