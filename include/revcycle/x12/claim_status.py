"""277 claim status (005010X212) and 277CA claim acknowledgement (005010X214) to canonical events.

Streams one ``StatusSet`` per transaction set.  The HL hierarchy sets the
context: 20 information source (payer), 21 information receiver, 19 service
provider, 22 subscriber, 23 dependent, PT patient (277CA).  A claim starts at
TRN*2 under a 22/23/PT level; every STC composite (STC01, STC10, STC11) is one
``claim_status_event`` row at the level it sits: information receiver,
provider, claim, or service line (after an SVC).  STC12 free text is never
copied (it may carry PHI); names are dropped and member ids tokenised.
"""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.domain.claim_status_set import StatusSet
from revcycle.domain.keys import business_key, joined_key
from revcycle.domain.phi import tokenise
from revcycle.errors import MappingError
from revcycle.x12.reader import X12Reader
from revcycle.x12.sets import map_sets
from revcycle.x12.values import amount, date8

LEVELS = {
    "20": "information_source",
    "21": "information_receiver",
    "19": "provider",
    "22": "claim",
    "23": "claim",
    "PT": "claim",
}


def map_claim_status(reader: X12Reader) -> Iterator[StatusSet]:
    return map_sets(
        reader,
        "HN",
        "277",
        lambda env, delim, body: _map_set(
            StatusSet(
                env.interchange_sender,
                env.interchange_control,
                env.group_control,
                env.transaction_control,
                env.implementation,
            ),
            body,
            delim.component,
        ),
    )


def read_claim_status(path, chunk_size: int | None = None) -> Iterator[tuple[X12Reader, StatusSet]]:
    with open(path, "rb") as stream:
        reader = X12Reader(stream, chunk_size) if chunk_size else X12Reader(stream)
        for sset in map_claim_status(reader):
            yield reader, sset


_EVENT_WITHOUT_CLAIM = {
    "trace_number": None,
    "patient_control_number": None,
    "payer_claim_control_number": None,
    "claim_seq": None,
    "line_seq": None,
    "procedure_qualifier": None,
    "procedure_code": None,
    "line_charge_amount": None,
    "service_date": None,
    "service_date_end": None,
}


def _map_set(s: StatusSet, body: Iterator[list[str]], comp: str) -> StatusSet:
    """One pass over the set's segments (as the 835 mapper): HL context and claims in local variables."""
    set_key = business_key("277", s.interchange_sender, s.interchange_control, s.group_control, s.transaction_control)
    envelope = {
        "status_set_key": set_key,
        "interchange_sender_id": s.interchange_sender,
        "interchange_control_number": s.interchange_control,
        "transaction_control_number": s.transaction_control,
        "implementation": s.implementation,
    }
    events = s.events
    level = hl_id = ""
    payer_id = payer_name = receiver_id = provider_id = member_token = None
    claim: dict | None = None
    line: dict | None = None
    trace: str | None = None  # TRN02 at a non-claim level (receiver batch, provider)
    stc_seq = 0
    for seg in body:
        tag = seg[0]
        n = len(seg)
        if tag == "HL":
            if claim is not None:
                _close_claim(claim, events, envelope)
            claim = line = None
            hl_id = seg[1] if n > 1 else ""
            code = seg[3] if n > 3 else ""
            level = LEVELS.get(code, "unknown")
            trace = None
            if code == "20":
                payer_id = payer_name = receiver_id = provider_id = None
            if code == "20" or code == "21" or code == "19":
                member_token = None
            if code == "19":
                provider_id = None
        elif tag == "STC":
            stc_seq += 1
            el = seg + [""] * (13 - n) if n < 13 else seg
            where = "STC #{} in ST {}"
            common = {
                "status_date": date8(el[2]),
                "action_code": el[3] or None,
                "charge_amount": amount(el[4], where + " STC04", stc_seq, s.transaction_control) if el[4] else None,
                "payment_amount": amount(el[5], where + " STC05", stc_seq, s.transaction_control) if el[5] else None,
                "adjudication_date": date8(el[6]),
                "payment_method": el[7] or None,
                "check_date": date8(el[8]),
                "check_number": el[9] or None,
                "has_free_text": bool(el[12]),
                "hl_id": hl_id,
                "payer_id": payer_id,
                "payer_name": payer_name,
                "receiver_id": receiver_id,
                "provider_id": provider_id,
                "member_token": member_token,
                "stc_seq": stc_seq,
            }
            # STC01, STC10, STC11: category : status : entity [: code list qualifier].
            composites = [el[1]] + [c for c in (el[10], el[11]) if c]
            for number, composite in enumerate(composites, start=1):
                parts = composite.split(comp) + ["", "", ""]
                event = {
                    "composite_seq": number,
                    "category_code": parts[0] or None,
                    "status_code": parts[1] or None,
                    "entity_code": parts[2] or None,
                    "code_list_qualifier": parts[3] or None,
                    **common,
                }
                if claim is not None:
                    event["_line"] = line
                    claim["events"].append(event)
                else:
                    event["level"] = level
                    event.update(_EVENT_WITHOUT_CLAIM)
                    event["trace_number"] = trace
                    _emit(event, events, envelope)
        elif tag == "NM1":
            entity = seg[1] if n > 1 else ""
            ident = seg[9] if n > 9 else ""
            if entity == "IL" or entity == "QC":
                if ident:
                    # 2100D/E: only a token of the member id; names are never copied.
                    member_token = tokenise(ident)
            elif entity == "PR":
                payer_name, payer_id = (seg[3] if n > 3 else "") or None, ident or None
            elif entity == "41":
                receiver_id = ident or None
            elif entity == "1P" or entity == "85":
                provider_id = ident or None
        elif tag == "TRN":
            if level == "claim" and n > 1 and seg[1] == "2":
                if claim is not None:
                    _close_claim(claim, events, envelope)
                line = None
                s.claims += 1
                claim = {
                    "patient_control_number": seg[2] if n > 2 else "",
                    "payer_claim_control_number": None,
                    "claim_seq": s.claims,
                    "service_date": None,
                    "service_date_end": None,
                    "events": [],
                    "lines": 0,
                }
            else:
                trace = (seg[2] if n > 2 else "") or None
        elif tag == "REF":
            if claim is not None and line is None and n > 1 and seg[1] == "1K":
                claim["payer_claim_control_number"] = seg[2] if n > 2 else ""
        elif tag == "DTP":
            if n > 1 and seg[1] == "472":
                target = line if line is not None else claim
                if target is not None:
                    start, _, end = (seg[3] if n > 3 else "").partition("-")
                    target["service_date"], target["service_date_end"] = date8(start), date8(end or start)
        elif tag == "SVC":
            if claim is not None:
                claim["lines"] += 1
                parts = (seg[1] if n > 1 else "").split(comp)
                charge = seg[2] if n > 2 else ""
                line = {
                    "line_seq": claim["lines"],
                    "procedure_qualifier": parts[0] if len(parts) > 1 else None,
                    "procedure_code": parts[1] if len(parts) > 1 else parts[0],
                    "line_charge_amount": amount(charge, "SVC02") if charge else None,
                    "service_date": None,
                    "service_date_end": None,
                }
    if claim is not None:
        _close_claim(claim, events, envelope)
    if not s.events:
        # A 277 exists to carry statuses: a set without one STC answers nothing and is refused.
        raise MappingError("NO_STATUS", f"277 transaction set {s.transaction_control} carries no STC status")
    return s


def _close_claim(claim: dict, events: list[dict], envelope: dict) -> None:
    """A claim's events are complete once its REF*1K and DTP*472 are read, i.e. at the next HL or claim."""
    for event in claim["events"]:
        line = event.pop("_line")
        dates = line if line is not None and line["service_date"] else claim
        event["level"] = "service_line" if line is not None else "claim"
        event["trace_number"] = None
        event["patient_control_number"] = claim["patient_control_number"]
        event["payer_claim_control_number"] = claim["payer_claim_control_number"]
        event["claim_seq"] = claim["claim_seq"]
        if line is not None:
            event["line_seq"] = line["line_seq"]
            event["procedure_qualifier"] = line["procedure_qualifier"]
            event["procedure_code"] = line["procedure_code"]
            event["line_charge_amount"] = line["line_charge_amount"]
        else:
            event["line_seq"] = event["procedure_qualifier"] = event["procedure_code"] = None
            event["line_charge_amount"] = None
        event["service_date"] = dates["service_date"]
        event["service_date_end"] = dates["service_date_end"]
        _emit(event, events, envelope)


def _emit(event: dict, events: list[dict], envelope: dict) -> None:
    event["claim_status_event_key"] = joined_key(
        f"{envelope['status_set_key']}\x1f{event['stc_seq']}\x1f{event['composite_seq']}"
    )
    event.update(envelope)
    events.append(event)
