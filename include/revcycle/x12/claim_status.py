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

from dataclasses import dataclass, field
from typing import Iterator

from revcycle.keys import business_key
from revcycle.phi import tokenise
from revcycle.x12.reader import X12Reader
from revcycle.x12.sets import map_sets
from revcycle.x12.values import date8, optional_money

LEVELS = {"20": "information_source", "21": "information_receiver", "19": "provider",
          "22": "claim", "23": "claim", "PT": "claim"}


@dataclass
class StatusSet:
    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    implementation: str
    events: list[dict] = field(default_factory=list)
    claims: int = 0


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def map_claim_status(reader: X12Reader) -> Iterator[StatusSet]:
    return map_sets(reader, "HN", "277", lambda env, delim: _StatusMapper(
        StatusSet(env.interchange_sender, env.interchange_control, env.group_control, env.transaction_control,
                  env.implementation), delim.component))


def read_claim_status(path, chunk_size: int | None = None) -> Iterator[tuple[X12Reader, StatusSet]]:
    with open(path, "rb") as stream:
        reader = X12Reader(stream, chunk_size) if chunk_size else X12Reader(stream)
        for sset in map_claim_status(reader):
            yield reader, sset


class _StatusMapper:
    def __init__(self, sset: StatusSet, component: str) -> None:
        self.s = sset
        self.comp = component
        self.level = ""
        self.hl_id = ""
        self.payer_id = self.payer_name = self.receiver_id = self.provider_id = None
        self.member_token = None
        self.claim: dict | None = None
        self.line: dict | None = None
        self.trace: str | None = None          # TRN02 at a non-claim level (receiver batch, provider)
        self.stc_seq = 0
        self.set_key = business_key("277", sset.interchange_sender, sset.interchange_control,
                                    sset.group_control, sset.transaction_control)

    def feed(self, seg: list[str]) -> None:
        handler = getattr(self, "_" + seg[0], None)
        if handler is not None:
            handler(seg)

    # -- context ---------------------------------------------------------------
    def _HL(self, seg):
        self._close_claim()
        self.hl_id = _el(seg, 1)
        code = _el(seg, 3)
        self.level = LEVELS.get(code, "unknown")
        self.trace = None
        if code == "20":
            self.payer_id = self.payer_name = self.receiver_id = self.provider_id = None
        if code in ("20", "21", "19"):
            self.member_token = None
        if code == "19":
            self.provider_id = None

    def _NM1(self, seg):
        entity, ident = _el(seg, 1), _el(seg, 9)
        if entity == "PR":
            self.payer_name, self.payer_id = _el(seg, 3) or None, ident or None
        elif entity == "41":
            self.receiver_id = ident or None
        elif entity in ("1P", "85"):
            self.provider_id = ident or None
        elif entity in ("IL", "QC") and ident:
            # 2100D/E: only a token of the member id; names are never copied.
            self.member_token = tokenise(ident)

    def _TRN(self, seg):
        if self.level == "claim" and _el(seg, 1) == "2":
            self._close_claim()
            self.s.claims += 1
            self.claim = {"patient_control_number": _el(seg, 2), "payer_claim_control_number": None,
                          "claim_seq": self.s.claims, "service_date": None, "service_date_end": None,
                          "events": [], "lines": 0}
        else:
            self.trace = _el(seg, 2) or None

    def _REF(self, seg):
        if self.claim is not None and self.line is None and _el(seg, 1) == "1K":
            self.claim["payer_claim_control_number"] = _el(seg, 2)

    def _DTP(self, seg):
        if _el(seg, 1) != "472":
            return
        start, _, end = _el(seg, 3).partition("-")
        target = self.line if self.line is not None else self.claim
        if target is not None:
            target["service_date"], target["service_date_end"] = date8(start), date8(end or start)

    def _SVC(self, seg):
        if self.claim is None:
            return
        self.claim["lines"] += 1
        parts = _el(seg, 1).split(self.comp)
        self.line = {"line_seq": self.claim["lines"],
                     "procedure_qualifier": parts[0] if len(parts) > 1 else None,
                     "procedure_code": parts[1] if len(parts) > 1 else parts[0],
                     "line_charge_amount": optional_money(_el(seg, 2), "SVC02"),
                     "service_date": None, "service_date_end": None}

    # -- status ----------------------------------------------------------------
    def _STC(self, seg):
        self.stc_seq += 1
        where = f"STC #{self.stc_seq} in ST {self.s.transaction_control}"
        common = {
            "status_date": date8(_el(seg, 2)), "action_code": _el(seg, 3) or None,
            "charge_amount": optional_money(_el(seg, 4), where + " STC04"),
            "payment_amount": optional_money(_el(seg, 5), where + " STC05"),
            "adjudication_date": date8(_el(seg, 6)), "payment_method": _el(seg, 7) or None,
            "check_date": date8(_el(seg, 8)), "check_number": _el(seg, 9) or None,
            "has_free_text": bool(_el(seg, 12)),
        }
        # STC01, STC10, STC11: category : status : entity [: code list qualifier].
        composites = [_el(seg, 1)] + [c for c in (_el(seg, 10), _el(seg, 11)) if c]
        for n, composite in enumerate(composites, start=1):
            parts = composite.split(self.comp)
            event = {"stc_seq": self.stc_seq, "composite_seq": n, "hl_id": self.hl_id,
                     "category_code": parts[0] or None, "status_code": _el(parts, 1) or None,
                     "entity_code": _el(parts, 2) or None, "code_list_qualifier": _el(parts, 3) or None,
                     "payer_id": self.payer_id, "payer_name": self.payer_name, "receiver_id": self.receiver_id,
                     "provider_id": self.provider_id, "member_token": self.member_token, **common}
            if self.claim is not None:
                event["_line"] = self.line
                self.claim["events"].append(event)
            else:
                event.update(level=self.level, trace_number=self.trace, patient_control_number=None,
                             payer_claim_control_number=None, claim_seq=None, line_seq=None,
                             procedure_qualifier=None, procedure_code=None, line_charge_amount=None,
                             service_date=None, service_date_end=None)
                self._emit(event)

    def _close_claim(self) -> None:
        claim, self.claim, self.line = self.claim, None, None
        if claim is None:
            return
        for event in claim["events"]:
            line = event.pop("_line")
            dates = line if line is not None and line["service_date"] else claim
            event.update(level="service_line" if line is not None else "claim", trace_number=None,
                         patient_control_number=claim["patient_control_number"],
                         payer_claim_control_number=claim["payer_claim_control_number"],
                         claim_seq=claim["claim_seq"], line_seq=line["line_seq"] if line else None,
                         procedure_qualifier=line["procedure_qualifier"] if line else None,
                         procedure_code=line["procedure_code"] if line else None,
                         line_charge_amount=line["line_charge_amount"] if line else None,
                         service_date=dates["service_date"], service_date_end=dates["service_date_end"])
            self._emit(event)

    def _emit(self, event: dict) -> None:
        event["claim_status_event_key"] = business_key(self.set_key, event["stc_seq"], event["composite_seq"])
        event["status_set_key"] = self.set_key
        event["interchange_sender_id"] = self.s.interchange_sender
        event["interchange_control_number"] = self.s.interchange_control
        event["transaction_control_number"] = self.s.transaction_control
        event["implementation"] = self.s.implementation
        self.s.events.append(event)

    def finish(self) -> StatusSet:
        self._close_claim()
        return self.s
