"""FHIR R4 payments to the remittance canonical records the 835 route fills (``revcycle.x12.remittance``).

A payment is a ``PaymentReconciliation`` and the ``ExplanationOfBenefit`` resources its
``detail`` entries of type ``payment`` point at; they are mapped as one 835 transaction set would be:

| canonical | FHIR |
|---|---|
| remittance: payer (TRN03), name | ``paymentIssuer.identifier.value``, ``paymentIssuer.display`` |
| trace (TRN02), payment date, amount (BPR02) | ``paymentIdentifier.value``, ``paymentDate``, ``paymentAmount`` |
| payment method (BPR04) | extension ``PAYMENT_METHOD`` (R4 has no element for it) |
| payee (N1*PE) | ``requestor.display`` and its NPI identifier |
| provider adjustment (PLB) | ``detail`` of type ``adjustment``, its X12 PLB reason coding, ``identifier``, ``date``, ``amount`` (positive lowers the payment, as in PLB) |
| claim payment (CLP) | one ``payment`` detail's resource, in detail order: ``claim.identifier`` (CLP01), ``identifier`` (CLP07), ``total`` submitted / ``payment.amount`` / member liability (CLP03/04/05), ``billablePeriod`` |
| claim status (CLP02) | ``status`` cancelled = 22 (reversal); a ``denialreason`` adjudication = 4; else ``precedence`` (1, 2, 3) |
| service line (SVC) | ``item``: ``productOrService`` (CPT/HCPCS = HC), ``modifier``, submitted and benefit adjudication, ``quantity``, ``servicedDate`` |
| adjustment (CAS) | adjudications whose category is an X12 group code (CO, PR, OA, PI, CR), reason = CARC |

Keys are the 835 route's: payer + trace + payment date + credit/debit for the payment (the same payment sent as
X12 and as FHIR is one business event), then ordinal positions.  FHIR has no CAS segment: the adjustments of a
claim or line are grouped by group code in order of first appearance (claim level first), six to a group, and
numbered as an 835 writer numbers its CAS segments.

A payment whose resources break a rule is rejected whole with a specific reason (its total could not tie);
the file's other payments go on.  Member ids are tokenised; names, birth dates and addresses are never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from revcycle.domain.keys import business_key, joined_key, remittance_key
from revcycle.domain.phi import tokenise
from revcycle.domain.remittance_set import RemittanceSet
from revcycle.fhir.ndjson import Rejected, Resource

BASE = "https://revcycle.dev/fhir"
PAYMENT_METHOD = f"{BASE}/StructureDefinition/x12-payment-method"
LINE_CONTROL = f"{BASE}/StructureDefinition/x12-line-control-number"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
CAS_GROUP = "https://x12.org/codes/claim-adjustment-group-codes"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
PLB_REASON = "https://x12.org/codes/provider-adjustment-reason-codes"
NPI = "http://hl7.org/fhir/sid/us-npi"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
MEMBER_ID = f"{BASE}/sid/member-id"
PATIENT_CONTROL = f"{BASE}/sid/patient-control-number"
PAYER_CLAIM = f"{BASE}/sid/payer-claim-control-number"
GROUPS = ("CO", "PR", "OA", "PI", "CR")
CLAIM_TYPES = ("ExplanationOfBenefit",)
CAS_PER_SEGMENT = 6
PLB_PER_SEGMENT = 6
ONE = Decimal("1")


class PaymentRefused(Exception):
    def __init__(self, reason: str, where: str) -> None:
        super().__init__(reason)
        self.reason, self.where = reason, where


@dataclass
class Mapped:
    sets: list[RemittanceSet] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    outcomes: int = 0  # OperationOutcome lines (a server's messages in a data file), counted, not mapped


def money(value: object, where: str) -> Decimal:
    """A FHIR Money: a decimal value in US dollars (an amount without a currency is refused)."""
    if not isinstance(value, dict) or "value" not in value:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.value")
    if not value.get("currency"):
        raise PaymentRefused("AMOUNT_WITHOUT_CURRENCY", where)
    if value["currency"] != "USD":
        raise PaymentRefused("UNSUPPORTED_CURRENCY", f"{where} is not USD")
    return Decimal(value["value"])


def coding(concept: dict | None, system: str) -> str | None:
    for c in (concept or {}).get("coding", ()):
        if c.get("system") == system:
            return c.get("code")
    return None


def fhir_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


def extension_value(resource: dict, url: str) -> str | None:
    for ext in resource.get("extension", ()):
        if ext.get("url") == url:
            return ext.get("valueCode") or ext.get("valueString")
    return None


def _reference_id(reference: dict | None, where: str) -> tuple[str, str]:
    text = (reference or {}).get("reference") or ""
    rtype, _, rid = text.rpartition("/")
    if rtype not in CLAIM_TYPES or not rid:
        raise PaymentRefused("BAD_REFERENCE", f"{where} is not ExplanationOfBenefit/<id>")
    return rtype, rid


def map_payments(resources: Iterable[Resource | Rejected]) -> Mapped:
    """Every payment of the file's resources, mapped; lines and payments refused, with their reasons."""
    out = Mapped()
    payments: list[Resource] = []
    claims: dict[tuple[str, str], Resource] = {}
    for item in resources:
        if isinstance(item, Rejected):
            out.rejected.append(item)
        elif item.resource_type == "PaymentReconciliation":
            payments.append(item)
        elif item.resource_type == "OperationOutcome":
            out.outcomes += 1
        else:
            claims[(item.resource_type, item.id)] = item
    used: set[tuple[str, str]] = set()
    for number, payment in enumerate(payments, start=1):
        try:
            rset, members = _payment(payment, claims, number)
        except PaymentRefused as exc:
            out.rejected.append(
                Rejected(
                    payment.line, "PaymentReconciliation", payment.id, exc.reason, f"line {payment.line}: {exc.where}"
                )
            )
            used.update(_members(payment))  # the payment's claims go with it, not reported again as orphans
            continue
        used.update(members)
        out.sets.append(rset)
    for identity, claim in claims.items():
        if identity not in used:
            out.rejected.append(
                Rejected(claim.line, *identity, "NO_PAYMENT", f"line {claim.line}: no PaymentReconciliation names it")
            )
    out.rejected.sort(key=lambda r: r.line)
    return out


def _members(payment: Resource) -> set[tuple[str, str]]:
    found = set()
    for detail in payment.body.get("detail", ()):
        text = (detail.get("response") or {}).get("reference") or ""
        rtype, _, rid = text.rpartition("/")
        found.add((rtype, rid))
    return found


def _payment(payment: Resource, claims: dict[tuple[str, str], Resource], number: int) -> tuple[RemittanceSet, list]:
    """One payment's records; its control number is its place among the file's payments (as ST02 is an 835's)."""
    pr = payment.body
    issuer = pr.get("paymentIssuer") or {}
    trace = (pr.get("paymentIdentifier") or {}).get("value")
    payer = (issuer.get("identifier") or {}).get("value")
    if not trace:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", "paymentIdentifier.value (the trace number)")
    if not payer:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", "paymentIssuer.identifier.value (the payer)")
    amount = money(pr.get("paymentAmount"), "paymentAmount")
    paid_on = fhir_date(pr.get("paymentDate"))
    flag = "C" if amount >= 0 else "D"
    rkey = remittance_key(payer, trace, paid_on.isoformat(), flag)
    requestor = pr.get("requestor") or {}
    payee = requestor.get("identifier") or {}
    rset = RemittanceSet(payer, "", "", f"{number:04d}", "FHIR-R4")
    claim_rows: list[dict] = []
    members: list[tuple[str, str]] = []
    plb: list[dict] = []
    for d, detail in enumerate(pr.get("detail", ()), start=1):
        kind = coding(detail.get("type"), PAYMENT_TYPE)
        if kind == "payment":
            identity = _reference_id(detail.get("response"), f"detail[{d}].response")
            resource = claims.get(identity)
            if resource is None:
                raise PaymentRefused("BAD_REFERENCE", f"detail[{d}].response names a resource not in the file")
            claim = _claim(resource.body, len(claim_rows) + 1, rkey, rset)
            if money(detail.get("amount"), f"detail[{d}].amount") != claim["paid_amount"]:
                raise PaymentRefused("PAYMENT_DETAIL_MISMATCH", f"detail[{d}].amount is not its claim's payment")
            claim_rows.append(claim)
            members.append(identity)
        elif kind == "adjustment":
            n = len(plb)
            plb.append(
                {
                    "provider_adjustment_key": None,
                    "remittance_key": rkey,
                    "plb_seq": n // PLB_PER_SEGMENT + 1,
                    "pair_seq": n % PLB_PER_SEGMENT + 1,
                    "provider_identifier": payee.get("value"),
                    "fiscal_period_date": fhir_date(detail.get("date")),
                    "reason_code": coding(detail.get("type"), PLB_REASON),
                    "reference": (detail.get("identifier") or {}).get("value"),
                    "amount": money(detail.get("amount"), f"detail[{d}].amount"),
                }
            )
            if plb[-1]["reason_code"] is None:
                raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"detail[{d}].type has no X12 PLB reason coding")
        else:
            raise PaymentRefused("BAD_ELEMENT", f"detail[{d}].type is neither payment nor adjustment")
    for p in plb:
        p["provider_adjustment_key"] = business_key(rkey, "PLB", p["plb_seq"], p["pair_seq"])
    rset.remittance = {
        "remittance_key": rkey,
        "interchange_sender_id": payer,
        "interchange_control_number": None,
        "group_control_number": None,
        "transaction_control_number": rset.transaction_control,
        "implementation_version": rset.version,
        "handling_code": "I",
        "payment_amount": amount,
        "credit_debit_flag": flag,
        "payment_method": extension_value(pr, PAYMENT_METHOD),
        "payment_format": None,
        "payment_date": paid_on,
        "payment_date_raw": paid_on.strftime("%Y%m%d"),
        "trace_number": trace,
        "payer_identifier": payer,
        "payer_name": issuer.get("display"),
        "payer_id": None,
        "payer_reference": None,
        "payee_name": requestor.get("display"),
        "payee_id_qualifier": "XX" if payee.get("system") == NPI else None,
        "payee_id": payee.get("value"),
        "production_date": fhir_date(pr.get("created")),
        "claim_count": len(claim_rows),
        "sum_claim_paid_amount": sum((c["paid_amount"] for c in claim_rows), Decimal("0")),
        "sum_provider_adjustment_amount": sum((p["amount"] for p in plb), Decimal("0")),
    }
    rset.claim_payments = claim_rows
    rset.provider_adjustments = plb
    return rset, members


def _total(resource: dict, system: str, code: str, where: str) -> Decimal | None:
    for t in resource.get("total", ()):
        if coding(t.get("category"), system) == code:
            return money(t.get("amount"), f"{where}.total[{code}]")
    return None


def _claim_status(body: dict) -> str:
    if body.get("status") == "cancelled":
        return "22"
    if any(coding(a.get("category"), C4BB_ADJUDICATION) == "denialreason" for a in body.get("adjudication", ())):
        return "4"
    return str(body.get("precedence") or 1)


def _claim(body: dict, seq: int, rkey: str, rset: RemittanceSet) -> dict:
    where = f"{body['resourceType']}/{str(body.get('id', ''))[:64]}"
    ckey = joined_key(f"{rkey}\x1fCLP\x1f{seq}")
    period = body.get("billablePeriod") or {}
    charge = _total(body, ADJUDICATION, "submitted", where)
    if charge is None:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.total[submitted] (the charge)")
    status = _claim_status(body)
    identifiers = body.get("identifier", ())
    claim = {
        "claim_payment_key": ckey,
        "remittance_key": rkey,
        "claim_seq": seq,
        "patient_control_number": ((body.get("claim") or body.get("request") or {}).get("identifier") or {}).get(
            "value"
        ),
        "claim_status_code": status,
        "charge_amount": charge,
        "paid_amount": money((body.get("payment") or {}).get("amount"), f"{where}.payment.amount"),
        "patient_responsibility_amount": _total(body, C4BB_ADJUDICATION, "memberliability", where),
        "claim_filing_indicator": None,
        "payer_claim_control_number": next(
            (i.get("value") for i in identifiers if i.get("system") == PAYER_CLAIM), None
        ),
        "facility_type_code": None,
        "claim_frequency_code": None,
        "drg_code": None,
        "is_reversal": status == "22",
        "patient_token": tokenise(((body.get("patient") or {}).get("identifier") or {}).get("value")),
        "insured_token": None,
        "statement_from_date": fhir_date(period.get("start")),
        "statement_to_date": fhir_date(period.get("end")),
        "received_date": None,
        "coverage_amount": None,
        "original_reference": None,
    }
    cas_seq = _adjustments(body.get("adjudication", ()), claim, None, 0, rset, where)
    for item in body.get("item", ()):
        line = _line(item, claim, where)
        rset.service_line_payments.append(line)
        cas_seq = _adjustments(item.get("adjudication", ()), claim, line, cas_seq, rset, f"{where}.item")
    return claim


def _line(item: dict, claim: dict, where: str) -> dict:
    seq = int(item.get("sequence") or 0)
    service = item.get("productOrService") or {}
    first = next(iter(service.get("coding", ())), {})
    qualifier = "HC" if first.get("system") in (CPT, HCPCS) else "ZZ"
    modifiers = [c.get("code") for m in item.get("modifier", ()) for c in m.get("coding", ())[:1] if c.get("code")]
    charge = paid = None
    for a in item.get("adjudication", ()):
        code = coding(a.get("category"), ADJUDICATION)
        if code == "submitted":
            charge = money(a.get("amount"), f"{where}.item[{seq}].adjudication[submitted]")
        elif code == "benefit":
            paid = money(a.get("amount"), f"{where}.item[{seq}].adjudication[benefit]")
    if charge is None or paid is None:
        raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}.item[{seq}] needs submitted and benefit amounts")
    quantity = (item.get("quantity") or {}).get("value")
    return {
        "service_line_key": joined_key(f"{claim['claim_payment_key']}\x1fSVC\x1f{seq}"),
        "claim_payment_key": claim["claim_payment_key"],
        "remittance_key": claim["remittance_key"],
        "line_seq": seq,
        "procedure_qualifier": qualifier,
        "procedure_code": first.get("code"),
        "procedure_modifiers": ":".join(modifiers[:4]) or None,
        "charge_amount": charge,
        "paid_amount": paid,
        "revenue_code": None,
        "units_paid": Decimal(quantity) if quantity is not None else ONE,
        "line_control_number": extension_value(item, LINE_CONTROL),
        "service_date": fhir_date(item.get("servicedDate")),
        "service_date_end": None,
    }


def _adjustments(
    adjudications: Iterable[dict], claim: dict, line: dict | None, cas_seq: int, rset: RemittanceSet, where: str
) -> int:
    """The owner's X12-group adjudications as CAS rows, grouped by group code (first appearance), six a group."""
    groups: dict[str, list[tuple[str, Decimal]]] = {}
    for a in adjudications:
        group = coding(a.get("category"), CAS_GROUP)
        if group is None:
            continue
        if group not in GROUPS:
            raise PaymentRefused("BAD_ELEMENT", f"{where}: adjustment group is not an X12 group code")
        reason = coding(a.get("reason"), CARC)
        if not reason:
            raise PaymentRefused("MISSING_REQUIRED_ELEMENT", f"{where}: an adjustment has no CARC reason")
        groups.setdefault(group, []).append((reason, money(a.get("amount"), f"{where}.adjudication[{group}]")))
    owner_key = line["service_line_key"] if line else claim["claim_payment_key"]
    for group, triplets in groups.items():
        for start in range(0, len(triplets), CAS_PER_SEGMENT):
            cas_seq += 1
            for t, (reason, value) in enumerate(triplets[start : start + CAS_PER_SEGMENT], start=1):
                rset.adjustments.append(
                    {
                        "adjustment_key": joined_key(f"{owner_key}\x1fCAS\x1f{cas_seq}\x1f{t}"),
                        "remittance_key": claim["remittance_key"],
                        "claim_payment_key": claim["claim_payment_key"],
                        "service_line_key": line["service_line_key"] if line else None,
                        "level": "service_line" if line else "claim",
                        "cas_seq": cas_seq,
                        "triplet_seq": t,
                        "group_code": group,
                        "reason_code": reason,
                        "amount": value,
                        "quantity": None,
                    }
                )
    return cas_seq
