"""835 health care claim payment/advice (005010X221A1, and 004010X091A1) to canonical records.

One ``RemittanceSet`` per transaction set (ST..SE), streamed: a file of any
size is mapped set by set.  Records are plain dicts whose keys are the
canonical column names (see ``revcycle.canonical``); money is ``Decimal``.
Keys come from business identity: payer (TRN03) + trace (TRN02) + payment
date (BPR16) for the remittance (DOMAIN.md: payers reuse TRN02 across years),
then the ordinal position of each claim, line, CAS triplet and PLB pair
inside it (claim ids are not unique inside one payment in real files).

PHI: patient and insured names are never copied; member ids (NM1*QC/IL
NM109) are tokenised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Iterator

from revcycle.errors import MappingError
from revcycle.keys import business_key
from revcycle.phi import tokenise
from revcycle.x12.reader import X12Reader
from revcycle.x12.sets import map_sets
from revcycle.x12.values import date8, money, optional_money

# CLP02 (5010): 22 = reversal of previous payment.
REVERSAL_STATUS = "22"


@dataclass
class RemittanceSet:
    """The canonical records of one 835 transaction set."""

    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    version: str
    remittance: dict = field(default_factory=dict)
    claim_payments: list[dict] = field(default_factory=list)
    service_line_payments: list[dict] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)
    provider_adjustments: list[dict] = field(default_factory=list)
    remarks: list[dict] = field(default_factory=list)
    segment_count: int = 0


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def read_remittances(path, chunk_size: int | None = None) -> Iterator[tuple[X12Reader, RemittanceSet]]:
    """Open an 835 file and stream its transaction sets."""
    with open(path, "rb") as stream:
        reader = X12Reader(stream, chunk_size) if chunk_size else X12Reader(stream)
        for rset in map_remittances(reader):
            yield reader, rset


def map_remittances(reader: X12Reader) -> Iterator[RemittanceSet]:
    return map_sets(reader, "HP", "835", lambda env, delim: _SetMapper(
        RemittanceSet(env.interchange_sender, env.interchange_control, env.group_control,
                      env.transaction_control, env.implementation), delim.component))


class _SetMapper:
    def __init__(self, rset: RemittanceSet, component: str) -> None:
        self.rset = rset
        self.comp = component
        self.rem: dict = {
            "payer_name": None, "payer_id": None, "payee_name": None, "payee_id": None,
            "payer_reference": None, "production_date": None,
        }
        self.n1 = ""  # current 1000A/1000B party (PR or PE)
        self.claim: dict | None = None
        self.line: dict | None = None
        self.pending_claims: list[dict] = []
        self.plb_pairs: list[tuple] = []
        self.cas_seq = 0
        self.count = 2  # ST and SE

    # -- segment dispatch --------------------------------------------------
    def feed(self, seg: list[str]) -> None:
        self.count += 1
        tag = seg[0]
        handler = getattr(self, "_" + tag, None)
        if handler is not None:
            handler(seg)

    def _BPR(self, seg):
        where = f"BPR in ST {self.rset.transaction_control}"
        self.rem.update(
            handling_code=_el(seg, 1),
            payment_amount=money(_el(seg, 2), where + " BPR02"),
            credit_debit_flag=_el(seg, 3),
            payment_method=_el(seg, 4),
            payment_format=_el(seg, 5) or None,
            payment_date_raw=_el(seg, 16) or None,
            payment_date=date8(_el(seg, 16)),
        )

    def _TRN(self, seg):
        if "trace_number" not in self.rem:
            self.rem.update(trace_number=_el(seg, 2), payer_identifier=_el(seg, 3))

    def _N1(self, seg):
        self.n1 = _el(seg, 1)
        if self.claim is None and self.n1 == "PR":
            self.rem.update(payer_name=_el(seg, 2), payer_id=_el(seg, 4) or None)
        elif self.claim is None and self.n1 == "PE":
            self.rem.update(payee_name=_el(seg, 2), payee_id_qualifier=_el(seg, 3) or None,
                            payee_id=_el(seg, 4) or None)

    def _REF(self, seg):
        qual = _el(seg, 1)
        if self.line is not None:
            if qual == "6R":
                self.line["line_control_number"] = _el(seg, 2)
        elif self.claim is not None:
            if qual in ("1K", "F8"):
                self.claim.setdefault("original_reference", _el(seg, 2))
        elif qual == "2U" and self.n1 == "PR":
            self.rem["payer_reference"] = _el(seg, 2)

    def _DTM(self, seg):
        qual, value = _el(seg, 1), _el(seg, 2)
        if self.line is not None:
            if qual in ("472", "150"):
                self.line["service_date"] = date8(value)
            elif qual == "151":
                self.line["service_date_end"] = date8(value)
        elif self.claim is not None:
            if qual == "232":
                self.claim["statement_from_date"] = date8(value)
            elif qual == "233":
                self.claim["statement_to_date"] = date8(value)
            elif qual == "050":
                self.claim["received_date"] = date8(value)
        elif qual == "405":
            self.rem["production_date"] = date8(value)

    def _CLP(self, seg):
        self._close_claim()
        seq = len(self.pending_claims) + 1
        where = f"CLP #{seq} in ST {self.rset.transaction_control}"
        status = _el(seg, 2)
        self.claim = {
            "claim_seq": seq,
            "patient_control_number": _el(seg, 1),
            "claim_status_code": status,
            "charge_amount": money(_el(seg, 3), where + " CLP03"),
            "paid_amount": money(_el(seg, 4), where + " CLP04"),
            "patient_responsibility_amount": optional_money(_el(seg, 5), where + " CLP05"),
            "claim_filing_indicator": _el(seg, 6) or None,
            "payer_claim_control_number": _el(seg, 7) or None,
            "facility_type_code": _el(seg, 8) or None,
            "claim_frequency_code": _el(seg, 9) or None,
            "drg_code": _el(seg, 11) or None,
            "is_reversal": status == REVERSAL_STATUS,
            "patient_token": None, "insured_token": None,
            "statement_from_date": None, "statement_to_date": None, "received_date": None,
            "coverage_amount": None, "original_reference": None,
            "_lines": [], "_adjustments": [], "_remarks": [],
        }
        self.cas_seq = 0

    def _NM1(self, seg):
        if self.claim is None:
            return
        entity = _el(seg, 1)
        # 2100 NM1*QC patient / NM1*IL insured: keep only a token of NM109.
        if entity == "QC":
            self.claim["patient_token"] = tokenise(_el(seg, 9))
        elif entity == "IL":
            self.claim["insured_token"] = tokenise(_el(seg, 9))

    def _AMT(self, seg):
        if self.claim is not None and self.line is None and _el(seg, 1) == "AU":
            self.claim["coverage_amount"] = money(_el(seg, 2), "AMT*AU")

    def _SVC(self, seg):
        if self.claim is None:
            raise MappingError("SVC_OUTSIDE_CLAIM", f"SVC before any CLP in ST {self.rset.transaction_control}")
        lines = self.claim["_lines"]
        seq = len(lines) + 1
        where = f"SVC #{seq} of CLP #{self.claim['claim_seq']}"
        parts = _el(seg, 1).split(self.comp)
        qualifier, code = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        units = _el(seg, 5)
        self.line = {
            "line_seq": seq,
            "procedure_qualifier": qualifier,
            "procedure_code": code,
            "procedure_modifiers": ":".join(p for p in parts[2:6] if p) or None,
            "charge_amount": money(_el(seg, 2), where + " SVC02"),
            "paid_amount": money(_el(seg, 3), where + " SVC03"),
            "revenue_code": _el(seg, 4) or None,
            "units_paid": money(units, where + " SVC05") if units else Decimal("1"),
            "line_control_number": None, "service_date": None, "service_date_end": None,
            "_adjustments": [], "_remarks": [],
        }
        lines.append(self.line)

    def _CAS(self, seg):
        if self.claim is None:
            raise MappingError("CAS_OUTSIDE_CLAIM", f"CAS before any CLP in ST {self.rset.transaction_control}")
        self.cas_seq += 1
        group = _el(seg, 1)
        target = self.line if self.line is not None else self.claim
        # CAS02-04, 05-07, ... 17-19: up to six (reason, amount, quantity) triplets.
        for triplet, i in enumerate(range(2, 20, 3), start=1):
            reason = _el(seg, i)
            if not reason:
                continue
            where = f"CAS #{self.cas_seq} triplet {triplet} of CLP #{self.claim['claim_seq']}"
            qty = _el(seg, i + 2)
            target["_adjustments"].append({
                "cas_seq": self.cas_seq, "triplet_seq": triplet,
                "group_code": group, "reason_code": reason,
                "amount": money(_el(seg, i + 1), where),
                "quantity": money(qty, where + " quantity") if qty else None,
            })

    def _MOA(self, seg):
        # 2100 MOA05-09: outpatient claim remark codes (RARC).
        self._remarks(seg, "MOA", range(3, 8))

    def _MIA(self, seg):
        # 2100 MIA05, MIA20-23: inpatient claim remark codes (RARC).
        self._remarks(seg, "MIA", (5, 20, 21, 22, 23))

    def _LQ(self, seg):
        # 2110 LQ*HE: service line remark code (RARC).
        if _el(seg, 1) == "HE":
            self._remarks(seg, "LQ", (2,))

    def _remarks(self, seg, source: str, positions) -> None:  # noqa: ANN001
        target = self.line if self.line is not None else self.claim
        if target is None:
            return
        for pos in positions:
            code = _el(seg, pos)
            if code:
                target["_remarks"].append({"source": source, "position": pos, "remark_code": code})

    def _LX(self, seg):
        self._close_claim()

    def _PLB(self, seg):
        self._close_claim()
        plb_seq = len({p[0] for p in self.plb_pairs}) + 1
        # PLB03/05/.../13 composite reason:reference, PLB04/06/.../14 amount.
        for pair, i in enumerate(range(3, 15, 2), start=1):
            composite = _el(seg, i)
            if not composite:
                continue
            reason, _, reference = composite.partition(self.comp)
            amount = money(_el(seg, i + 1), f"PLB #{plb_seq} pair {pair}")
            self.plb_pairs.append((plb_seq, pair, _el(seg, 1), date8(_el(seg, 2)), reason, reference or None, amount))

    def _close_claim(self) -> None:
        if self.claim is not None:
            self.pending_claims.append(self.claim)
        self.claim = None
        self.line = None

    # -- finish: keys and flat records -------------------------------------
    def finish(self) -> RemittanceSet:
        self._close_claim()
        rset = self.rset
        rset.segment_count = self.count
        rem = self.rem
        if "payment_amount" not in rem:
            raise MappingError("MISSING_BPR", f"ST {rset.transaction_control} has no BPR")
        if "trace_number" not in rem:
            raise MappingError("MISSING_TRN", f"ST {rset.transaction_control} has no TRN")
        payment_date = rem["payment_date"]
        rkey = business_key("835", rem["payer_identifier"], rem["trace_number"],
                            payment_date.isoformat() if payment_date else rem["payment_date_raw"],
                            rem["credit_debit_flag"])
        sum_paid = sum((c["paid_amount"] for c in self.pending_claims), Decimal("0"))
        sum_plb = sum((p[6] for p in self.plb_pairs), Decimal("0"))
        rset.remittance = {
            "remittance_key": rkey,
            "interchange_sender_id": rset.interchange_sender,
            "interchange_control_number": rset.interchange_control,
            "group_control_number": rset.group_control,
            "transaction_control_number": rset.transaction_control,
            "implementation_version": rset.version,
            **rem,
            "claim_count": len(self.pending_claims),
            "sum_claim_paid_amount": sum_paid,
            "sum_provider_adjustment_amount": sum_plb,
        }
        for claim in self.pending_claims:
            ckey = business_key(rkey, "CLP", claim["claim_seq"])
            lines = claim.pop("_lines")
            for rem_code in claim.pop("_remarks"):
                rset.remarks.append(self._remark(rem_code, rkey, ckey, None, "claim"))
            for adj in claim.pop("_adjustments"):
                rset.adjustments.append(self._adjustment(adj, rkey, ckey, None, "claim"))
            rset.claim_payments.append({"claim_payment_key": ckey, "remittance_key": rkey, **claim})
            for line in lines:
                lkey = business_key(ckey, "SVC", line["line_seq"])
                for rem_code in line.pop("_remarks"):
                    rset.remarks.append(self._remark(rem_code, rkey, ckey, lkey, "service_line"))
                for adj in line.pop("_adjustments"):
                    rset.adjustments.append(self._adjustment(adj, rkey, ckey, lkey, "service_line"))
                rset.service_line_payments.append(
                    {"service_line_key": lkey, "claim_payment_key": ckey, "remittance_key": rkey, **line})
        for plb_seq, pair, provider, period, reason, reference, amount in self.plb_pairs:
            rset.provider_adjustments.append({
                "provider_adjustment_key": business_key(rkey, "PLB", plb_seq, pair),
                "remittance_key": rkey, "plb_seq": plb_seq, "pair_seq": pair,
                "provider_identifier": provider, "fiscal_period_date": period,
                "reason_code": reason, "reference": reference, "amount": amount,
            })
        return rset

    @staticmethod
    def _remark(remark: dict, rkey: str, ckey: str, lkey: str | None, level: str) -> dict:
        return {"remark_key": business_key(lkey or ckey, remark["source"], remark["position"]),
                "remittance_key": rkey, "claim_payment_key": ckey, "service_line_key": lkey, "level": level,
                "segment": remark["source"], "remark_code": remark["remark_code"]}

    @staticmethod
    def _adjustment(adj: dict, rkey: str, ckey: str, lkey: str | None, level: str) -> dict:
        return {
            "adjustment_key": business_key(lkey or ckey, "CAS", adj["cas_seq"], adj["triplet_seq"]),
            "remittance_key": rkey, "claim_payment_key": ckey, "service_line_key": lkey,
            "level": level, **adj,
        }


def summarise(rsets: Iterable[RemittanceSet]) -> list[dict]:
    """Per transaction set: control totals an operator or auditor checks."""
    return [{
        "st02": r.transaction_control,
        "claims": r.remittance["claim_count"],
        "bpr02": r.remittance["payment_amount"],
        "sum_clp04": r.remittance["sum_claim_paid_amount"],
        "sum_plb": r.remittance["sum_provider_adjustment_amount"],
    } for r in rsets]
