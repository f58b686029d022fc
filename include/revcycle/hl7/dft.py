"""DFT^P03 / DFT^P11 detail financial transactions to supply usage rows, one per FT1.

Fields read (HL7 2.3-2.8 numbering):
    MSH-9 type, MSH-10 control id, MSH-12 version
    PID-3   patient identifier (first repetition)       -> patient_token (HMAC); names, birth date: never read
    PV1-3   assigned location (point of care)           -> location when FT1-13 is empty
    PV1-19  visit number                                -> encounter_token (HMAC)
    FT1-1 set id, FT1-2 transaction id, FT1-4 transaction date (DR: start), FT1-6 type (CG, CD, PY, AJ),
    FT1-7 transaction code (code ^ text ^ coding system), FT1-10 quantity, FT1-11 extended amount and
    FT1-12 unit amount (CP: money ``price&currency`` in component 1), FT1-13 department,
    FT1-20 performed by / FT1-21 ordered by (ID component only), FT1-25 procedure code, FT1-26 modifiers.
    ZIM (vendor implant segment after its FT1): 1 set id, 2 GTIN/UDI, 3 lot, 4 serial, 5 expiry,
        6 implant Y/N, 7 consignment Y/N, 8 surgical case id.
    PRT (2.7+ participation after its FT1): 16 UDI device identifier, 18 expiry, 19 lot, 20 serial.

A message that cannot be mapped raises ``HL7Error`` with a reason and an ERR
location; the caller rejects that message only.  Other message types (ADT,
...) are recognised and skipped by the caller.  An empty FT1-10 means one unit
(``quantity_defaulted`` records it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from revcycle.domain.decimals import MAX_INTEGER_DIGITS, signed_decimal, too_large
from revcycle.domain.gs1 import USAGE_WITHOUT_DEVICE, device_identifier, gtin14
from revcycle.domain.keys import joined_key
from revcycle.domain.phi import tokenise
from revcycle.hl7.reader import HL7Error, Message

DFT_EVENTS = {"P03", "P11"}
_YES_NO = {"Y": True, "N": False}


def _f(seg: list[str], n: int) -> str:
    return seg[n] if len(seg) > n else ""


def _decimal(text: str, n: int, ft1_no: int, what: str, places: int | None = None) -> Decimal | None:
    """FT1-n's first leaf as a Decimal: a plain number (quantity), or with ``places`` a CP amount
    (``price&currency`` in component 1) with at most that many decimals."""
    value = _number(text.strip(), places)
    if type(value) is Decimal or value is None:
        return value
    where = f"FT1^{ft1_no}^{n}"
    if value == "BAD_AMOUNT_SIZE":
        raise HL7Error(
            "BAD_AMOUNT_SIZE",
            f"FT1 #{ft1_no} {what} (FT1-{n}) has more than {MAX_INTEGER_DIGITS} integer digits",
            where,
            "102",
        )
    raise HL7Error("BAD_NUMBER", f"FT1 #{ft1_no} {what} (FT1-{n}) is not {value}", where, "102")


@lru_cache(maxsize=4096)  # quantities and prices repeat across a day's messages
def _number(text: str, places: int | None) -> Decimal | str | None:
    """A number's text as a Decimal, None when empty, or what is wrong with it."""
    if text == "":
        return None
    if signed_decimal(text) is None:  # HL7 NM
        return "a number"
    dot = text.find(".")  # the grammar holds: the decimals are what follows the point
    if places is not None and dot >= 0 and len(text) - dot - 1 > places:
        return "a valid amount"
    value = Decimal(text)
    return "BAD_AMOUNT_SIZE" if too_large(value) else value


def _date(leaf: str, where: str, *args: object) -> dt.date | None:
    """A TS/DT's first leaf, its first 8 characters as a date; ``where.format(*args)`` names the field only
    when it is refused."""
    text = leaf[:8]
    if text == "":
        return None
    try:
        return _ccyymmdd(text)
    except ValueError:
        where = where.format(*args)
        raise HL7Error("BAD_DATE", f"{where} is not a date", where.replace("-", "^1^"), "102") from None


@lru_cache(maxsize=4096)
def _ccyymmdd(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def map_dft(msg: Message) -> list[dict]:
    """Usage rows of one DFT message (before item master normalisation)."""
    control = msg.control_id
    if not control:
        raise HL7Error("MISSING_CONTROL_ID", "MSH-10 message control id is empty", "MSH^1^10", "101")
    patient_token = encounter_token = location = None
    seen_pid = False
    rows: list[dict] = []
    current: dict | None = None
    ft1_no = 0
    for seg in msg.segments[1:]:
        name = seg[0]
        if name == "PID":
            seen_pid = True
            patient_token = tokenise(msg.leaf(seg, 3)) or tokenise(msg.leaf(seg, 2))
        elif name == "PV1":
            encounter_token = tokenise(msg.leaf(seg, 19))
            location = msg.leaf(seg, 3) or None
        elif name == "FT1":
            ft1_no += 1
            if not seen_pid:
                raise HL7Error("FT1_WITHOUT_PID", f"FT1 #{ft1_no} comes before any PID", f"FT1^{ft1_no}", "100")
            current = _ft1(msg, seg, ft1_no, control, patient_token, encounter_token, location)
            rows.append(current)
        elif name == "ZIM" and current is not None:
            _vendor_implant(msg.leaves(seg, 9), current)
        elif name == "PRT" and current is not None and _f(seg, 16):
            _participation_device(msg.leaves(seg, 21), current)
    if not rows:
        raise HL7Error("NO_FT1", "the DFT message carries no FT1 transaction", "FT1", "101")
    return rows


def _ft1(
    msg: Message,
    seg: list[str],
    n: int,
    control: str,
    patient_token: str | None,
    encounter_token: str | None,
    location: str | None,
) -> dict:
    f = msg.leaves(seg, 27)
    quantity = _decimal(f[10], 10, n, "quantity")
    defaulted = quantity is None
    if quantity is None:
        quantity = Decimal(1)
    extended = _decimal(f[11], 11, n, "extended amount", places=2)
    unit = _decimal(f[12], 12, n, "unit amount", places=4)
    if unit is None:
        unit = _decimal(f[22], 22, n, "unit cost", places=4)
    if extended is None and unit is not None:
        product = unit * quantity
        if too_large(product):
            raise HL7Error(
                "BAD_AMOUNT_SIZE", f"FT1 #{n} unit amount x quantity is too large for an amount", f"FT1^{n}^12", "102"
            )
        extended = product.quantize(Decimal("0.01"))
    start = _date(f[4], "FT1-4 of FT1 #{}", n)
    _, item_text, item_code_system = msg.components(_f(seg, 7), 3)[:3]  # code ^ text ^ coding system
    modifiers = _f(seg, 26)
    if modifiers:
        rep = msg.encoding.repetition
        each = (msg.value(modifiers, 1, 1, r) for r in range(1, modifiers.count(rep) + 2))
        modifiers = ",".join(m for m in each if m)
    return {
        "usage_key": joined_key(f"hl7\x1f{control}\x1f{n}"),  # business_key("hl7", control, n), inlined
        "source_format": "hl7",
        "message_control_id": control,
        "line_seq": n,
        "ft1_set_id": f[1] or str(n),
        "transaction_id": f[2] or None,
        "transaction_date": start,
        "transaction_type": f[6] or None,
        "item_code": f[7] or None,
        "item_text": item_text or None,
        "item_code_system": item_code_system or None,
        "quantity": quantity,
        "quantity_defaulted": defaulted,
        "unit_of_measure": None,
        "unit_cost": unit,
        "charge_amount": extended,
        "department": f[13] or location,
        "procedure_code": f[25] or None,
        "procedure_modifiers": modifiers or None,
        "performing_provider_id": f[20] or None,
        "ordering_provider_id": f[21] or None,
        "patient_token": patient_token,
        "encounter_token": encounter_token,
        "case_id": None,
        **USAGE_WITHOUT_DEVICE,
    }


def _vendor_implant(zim: list[str], row: dict) -> None:
    """ZIM's first leaves onto the FT1's row."""
    udi = zim[2].strip()
    row["udi"] = udi or None
    row["gtin"] = gtin14(device_identifier(udi)) if udi else None
    row["lot"] = zim[3] or None
    row["serial"] = zim[4] or None
    row["expiry_date"] = _date(zim[5], "ZIM-5")
    row["implant_flag"] = _YES_NO.get(zim[6].upper())
    row["consignment_flag"] = _YES_NO.get(zim[7].upper())
    row["case_id"] = zim[8] or None


def _participation_device(prt: list[str], row: dict) -> None:
    """PRT's first leaves onto the FT1's row."""
    if row["udi"]:
        return  # the first device attached to an FT1 wins
    di = prt[16].strip()
    row["udi"] = di or None
    row["gtin"] = gtin14(device_identifier(di)) if di else None
    row["expiry_date"] = _date(prt[18], "PRT-18")
    row["lot"] = prt[19] or None
    row["serial"] = prt[20] or None
    row["implant_flag"] = True if di else None
