"""835 health care claim payment/advice (005010X221A1, and 004010X091A1) to canonical records.

One ``RemittanceSet`` per transaction set (ST..SE), streamed: a file of any
size is mapped set by set.  Records are plain dicts whose keys are the
canonical column names (see ``revcycle.domain.canonical``); money is ``Decimal``.
Keys come from business identity: payer (TRN03) + trace (TRN02) + payment
date (BPR16) for the remittance (payers reuse a TRN02 trace number across years),
then the ordinal position of each claim, line, CAS triplet and PLB pair
inside it (claim ids are not unique inside one payment in real files).

PHI: patient and insured names are never copied; member ids (NM1*QC/IL
NM109) are tokenised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from revcycle.domain.keys import business_key, joined_key, remittance_key
from revcycle.domain.phi import tokenise
from revcycle.domain.remittance_set import RemittanceSet
from revcycle.errors import MappingError
from revcycle.x12.reader import X12Reader
from revcycle.x12.sets import map_sets
from revcycle.x12.values import amount, date8, money

# CLP02 (5010): 22 = reversal of previous payment.
REVERSAL_STATUS = "22"
ONE = Decimal("1")
# RARC positions: MOA03-07 outpatient and MIA05/20-23 inpatient claim remarks, LQ02 (LQ01 = HE) line remark.
REMARK_POSITIONS = {"MOA": (3, 4, 5, 6, 7), "MIA": (5, 20, 21, 22, 23), "LQ": (2,)}


def read_remittances(path, chunk_size: int | None = None) -> Iterator[tuple[X12Reader, RemittanceSet]]:
    """Open an 835 file and stream its transaction sets."""
    with open(path, "rb") as stream:
        reader = X12Reader(stream, chunk_size) if chunk_size else X12Reader(stream)
        for rset in map_remittances(reader):
            yield reader, rset


def map_remittances(reader: X12Reader) -> Iterator[RemittanceSet]:
    return map_sets(
        reader,
        "HP",
        "835",
        lambda env, delim, body: map_set(
            RemittanceSet(
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


def map_set(rset: RemittanceSet, body: Iterator[list[str]], comp: str) -> RemittanceSet:  # noqa: C901
    """One pass over the set's segments with the loop state in locals; keys are attached at the end."""
    tc = rset.transaction_control
    rem: dict = {
        "payer_name": None,
        "payer_id": None,
        "payee_name": None,
        "payee_id": None,
        "payer_reference": None,
        "production_date": None,
    }
    n1 = ""  # current 1000A/1000B party (PR or PE)
    claim: dict | None = None
    line: dict | None = None
    claims: list[dict] = []
    lines: list[dict] = []
    line_claims: list[dict] = []  # each line's claim
    adjustments: list[dict] = []
    adj_owners: list[dict] = []  # the claim or line each adjustment belongs to
    remarks: list[dict] = []
    remark_ids: list[tuple] = []  # (owner, segment, position): the remark key's identity
    plb_pairs: list[tuple] = []
    plb_segments = 0  # PLB segments that carried at least one pair
    cas_seq = line_no = count = 0
    for count, seg in enumerate(body, start=1):  # noqa: B007 - count is the set's length after the loop
        tag = seg[0]
        n = len(seg)
        if tag == "DTM":
            qual = seg[1] if n > 1 else ""
            value = seg[2] if n > 2 else ""
            if line is not None:
                if qual == "472" or qual == "150":
                    line["service_date"] = date8(value)
                elif qual == "151":
                    line["service_date_end"] = date8(value)
            elif claim is not None:
                if qual == "232":
                    claim["statement_from_date"] = date8(value)
                elif qual == "233":
                    claim["statement_to_date"] = date8(value)
                elif qual == "050":
                    claim["received_date"] = date8(value)
            elif qual == "405":
                rem["production_date"] = date8(value)
        elif tag == "CAS":
            if claim is None:
                raise MappingError("CAS_OUTSIDE_CLAIM", f"CAS before any CLP in ST {tc}")
            cas_seq += 1
            group = seg[1] if n > 1 else ""
            owner, level = (line, "service_line") if line is not None else (claim, "claim")
            # CAS02-04, 05-07, ... 17-19: up to six (reason, amount, quantity) triplets.
            if n > 20 and any(seg[20:]):
                raise MappingError(
                    "CAS_TOO_MANY_TRIPLETS",
                    f"CAS #{cas_seq} of CLP #{claim['claim_seq']} in ST {tc} has more than six triplets",
                )
            for triplet, i in enumerate(range(2, min(n, 20), 3), start=1):
                reason = seg[i]
                if not reason:
                    if any(seg[i + 1 : i + 3]):
                        raise MappingError(
                            "CAS_TRIPLET_WITHOUT_REASON",
                            f"CAS #{cas_seq} triplet {triplet} of CLP "
                            f"#{claim['claim_seq']} in ST {tc} has an amount "
                            "but no reason code",
                        )
                    continue
                qty = seg[i + 2] if n > i + 2 else ""
                where = "CAS #{} triplet {} of CLP #{}"
                adjustments.append(
                    {
                        "adjustment_key": None,
                        "remittance_key": None,
                        "claim_payment_key": None,
                        "service_line_key": None,
                        "level": level,
                        "cas_seq": cas_seq,
                        "triplet_seq": triplet,
                        "group_code": group,
                        "reason_code": reason,
                        "amount": amount(seg[i + 1] if n > i + 1 else "", where, cas_seq, triplet, claim["claim_seq"]),
                        "quantity": amount(qty, where + " quantity", cas_seq, triplet, claim["claim_seq"])
                        if qty
                        else None,
                    }
                )
                adj_owners.append(owner)
        elif tag == "REF":
            qual = seg[1] if n > 1 else ""
            if line is not None:
                if qual == "6R":
                    line["line_control_number"] = seg[2] if n > 2 else ""
            elif claim is not None:
                # 2100 REF*F8 original reference number (1K payer claim number): the first one is kept.
                if (qual == "F8" or qual == "1K") and claim["original_reference"] is None:
                    claim["original_reference"] = seg[2] if n > 2 else ""
            elif qual == "2U" and n1 == "PR":
                rem["payer_reference"] = seg[2] if n > 2 else ""
        elif tag == "SVC":
            if claim is None:
                raise MappingError("SVC_OUTSIDE_CLAIM", f"SVC before any CLP in ST {tc}")
            line_no += 1
            parts = (seg[1] if n > 1 else "").split(comp)
            if len(parts) < 2 or not parts[0] or not parts[1]:
                # SVC01 is a composite qualifier:code; one component means another separator than ISA16.
                raise MappingError(
                    "BAD_PROCEDURE_COMPOSITE",
                    f"SVC01 of SVC #{line_no} of CLP #{claim['claim_seq']} in ST {tc} is not qualifier{comp}code",
                )
            qualifier, code = parts[0], parts[1]
            units = seg[5] if n > 5 else ""
            where = "SVC #{} of CLP #{}"
            line = {
                "service_line_key": None,
                "claim_payment_key": None,
                "remittance_key": None,
                "line_seq": line_no,
                "procedure_qualifier": qualifier,
                "procedure_code": code,
                "procedure_modifiers": ":".join(p for p in parts[2:6] if p) or None,
                "charge_amount": amount(seg[2] if n > 2 else "", where + " SVC02", line_no, claim["claim_seq"]),
                "paid_amount": amount(seg[3] if n > 3 else "", where + " SVC03", line_no, claim["claim_seq"]),
                "revenue_code": (seg[4] if n > 4 else "") or None,
                "units_paid": amount(units, where + " SVC05", line_no, claim["claim_seq"]) if units else ONE,
                "line_control_number": None,
                "service_date": None,
                "service_date_end": None,
            }
            lines.append(line)
            line_claims.append(claim)
        elif tag == "CLP":
            line = None
            seq = len(claims) + 1
            claim = _claim(seg, seq, tc)
            claims.append(claim)
            cas_seq = line_no = 0
        elif tag == "NM1":
            if claim is not None:
                entity = seg[1] if n > 1 else ""
                # 2100 NM1*QC patient / NM1*IL insured: keep only a token of NM109.
                if entity == "QC":
                    claim["patient_token"] = tokenise(seg[9] if n > 9 else "")
                elif entity == "IL":
                    claim["insured_token"] = tokenise(seg[9] if n > 9 else "")
        elif tag == "AMT":
            if claim is not None and line is None and n > 1 and seg[1] == "AU":
                claim["coverage_amount"] = money(seg[2] if n > 2 else "", "AMT*AU")
        elif tag in REMARK_POSITIONS:
            # Remark codes (RARC) at the claim, or at the line once an SVC has opened one.
            owner = line if line is not None else claim
            if owner is None or (tag == "LQ" and (seg[1] if n > 1 else "") != "HE"):
                continue
            for pos in REMARK_POSITIONS[tag]:
                code = seg[pos] if n > pos else ""
                if code:
                    remarks.append(
                        {
                            "remark_key": None,
                            "remittance_key": None,
                            "claim_payment_key": None,
                            "service_line_key": None,
                            "level": "service_line" if line is not None else "claim",
                            "segment": tag,
                            "remark_code": code,
                        }
                    )
                    remark_ids.append((owner, tag, pos))
        elif tag == "LX":
            claim = line = None
        elif tag == "PLB":
            claim = line = None
            plb_seq = plb_segments + 1
            paired = False
            # PLB03/05/.../13 composite reason:reference, PLB04/06/.../14 amount.
            for pair, i in enumerate(range(3, 15, 2), start=1):
                composite = seg[i] if n > i else ""
                if not composite:
                    continue
                reason, _, reference = composite.partition(comp)
                plb_pairs.append(
                    (
                        plb_seq,
                        pair,
                        seg[1] if n > 1 else "",
                        date8(seg[2] if n > 2 else ""),
                        reason,
                        reference or None,
                        amount(seg[i + 1] if n > i + 1 else "", "PLB #{} pair {}", plb_seq, pair),
                    )
                )
                paired = True
            plb_segments += paired
        elif tag == "BPR":
            el = seg + [""] * (17 - n) if n < 17 else seg
            rem.update(
                handling_code=el[1],
                payment_amount=money(el[2], f"BPR in ST {tc} BPR02"),
                credit_debit_flag=el[3],
                payment_method=el[4],
                payment_format=el[5] or None,
                payment_date_raw=el[16] or None,
                payment_date=date8(el[16]),
            )
        elif tag == "TRN":
            if "trace_number" not in rem:
                rem.update(
                    trace_number=(seg[2] if n > 2 else "") or None, payer_identifier=(seg[3] if n > 3 else "") or None
                )
        elif tag == "N1":
            n1 = seg[1] if n > 1 else ""
            if claim is None and n1 == "PR":
                rem.update(payer_name=seg[2] if n > 2 else "", payer_id=(seg[4] if n > 4 else "") or None)
            elif claim is None and n1 == "PE":
                rem.update(
                    payee_name=seg[2] if n > 2 else "",
                    payee_id_qualifier=(seg[3] if n > 3 else "") or None,
                    payee_id=(seg[4] if n > 4 else "") or None,
                )

    rset.segment_count = count + 2  # and ST, SE
    return _finish(rset, rem, claims, lines, line_claims, adjustments, adj_owners, remarks, remark_ids, plb_pairs)


def _claim(seg: list[str], seq: int, tc: str) -> dict:
    """2100 CLP: one claim payment record (one call per claim); its keys are attached at the set's end."""
    n = len(seg)
    el = seg + [""] * (12 - n) if n < 12 else seg
    status = el[2]
    where = f"CLP #{seq} in ST {tc}"
    return {
        "claim_payment_key": None,
        "remittance_key": None,
        "claim_seq": seq,
        "patient_control_number": el[1] or None,
        "claim_status_code": status,
        "charge_amount": amount(el[3], where + " CLP03"),
        "paid_amount": amount(el[4], where + " CLP04"),
        "patient_responsibility_amount": amount(el[5], where + " CLP05") if el[5] else None,
        "claim_filing_indicator": el[6] or None,
        "payer_claim_control_number": el[7] or None,
        "facility_type_code": el[8] or None,
        "claim_frequency_code": el[9] or None,
        "drg_code": el[11] or None,
        "is_reversal": status == REVERSAL_STATUS,
        "patient_token": None,
        "insured_token": None,
        "statement_from_date": None,
        "statement_to_date": None,
        "received_date": None,
        "coverage_amount": None,
        "original_reference": None,
    }


def _finish(
    rset: RemittanceSet,
    rem: dict,
    claims: list[dict],
    lines: list[dict],
    line_claims: list[dict],
    adjustments: list[dict],
    adj_owners: list[dict],
    remarks: list[dict],
    remark_ids: list[tuple],
    plb_pairs: list[tuple],
) -> RemittanceSet:
    """Once per set: keys from business identity (payer + trace + payment date, then ordinal positions),
    attached to every record, and the set's records."""
    tc = rset.transaction_control
    if "payment_amount" not in rem:
        raise MappingError("MISSING_BPR", f"ST {tc} has no BPR")
    if "trace_number" not in rem:
        raise MappingError("MISSING_TRN", f"ST {tc} has no TRN")
    if rem["credit_debit_flag"] == "C" and rem["payment_amount"] < 0:
        # BPR03 C: money moves to the provider; a negative BPR02 belongs under BPR03 D.
        raise MappingError("NEGATIVE_CREDIT_PAYMENT", f"BPR02 is negative with BPR03=C in ST {tc}")
    payment_date = rem["payment_date"]
    rkey = remittance_key(
        rem["payer_identifier"],
        rem["trace_number"],
        payment_date.isoformat() if payment_date else rem["payment_date_raw"],
        rem["credit_debit_flag"],
    )
    rset.remittance = {
        "remittance_key": rkey,
        "interchange_sender_id": rset.interchange_sender,
        "interchange_control_number": rset.interchange_control,
        "group_control_number": rset.group_control,
        "transaction_control_number": tc,
        "implementation_version": rset.version,
        **rem,
        "claim_count": len(claims),
        "sum_claim_paid_amount": sum((c["paid_amount"] for c in claims), Decimal("0")),
        "sum_provider_adjustment_amount": sum((p[6] for p in plb_pairs), Decimal("0")),
    }
    for c in claims:
        c["remittance_key"] = rkey
        c["claim_payment_key"] = joined_key(f"{rkey}\x1fCLP\x1f{c['claim_seq']}")
    for ln, c in zip(lines, line_claims, strict=True):
        ckey = ln["claim_payment_key"] = c["claim_payment_key"]
        ln["remittance_key"] = rkey
        ln["service_line_key"] = joined_key(f"{ckey}\x1fSVC\x1f{ln['line_seq']}")
    # An adjustment or remark belongs to a claim (no line key) or to a line; its own key extends the owner's.
    for adj, owner in zip(adjustments, adj_owners, strict=True):
        ckey, lkey = owner["claim_payment_key"], owner.get("service_line_key")
        adj.update(
            remittance_key=rkey,
            claim_payment_key=ckey,
            service_line_key=lkey,
            adjustment_key=joined_key(f"{lkey or ckey}\x1fCAS\x1f{adj['cas_seq']}\x1f{adj['triplet_seq']}"),
        )
    for remark, (owner, segment, position) in zip(remarks, remark_ids, strict=True):
        ckey, lkey = owner["claim_payment_key"], owner.get("service_line_key")
        remark.update(
            remittance_key=rkey,
            claim_payment_key=ckey,
            service_line_key=lkey,
            remark_key=joined_key(f"{lkey or ckey}\x1f{segment}\x1f{position}"),
        )
    rset.claim_payments = claims
    rset.service_line_payments = lines
    rset.adjustments = adjustments
    rset.remarks = remarks
    rset.provider_adjustments = [
        {
            "provider_adjustment_key": business_key(rkey, "PLB", plb_seq, pair),
            "remittance_key": rkey,
            "plb_seq": plb_seq,
            "pair_seq": pair,
            "provider_identifier": provider,
            "fiscal_period_date": period,
            "reason_code": reason,
            "reference": reference,
            "amount": plb_amount,
        }
        for plb_seq, pair, provider, period, reason, reference, plb_amount in plb_pairs
    ]
    return rset


def summarise(rsets: Iterable[RemittanceSet]) -> list[dict]:
    """Per transaction set: control totals an operator or auditor checks."""
    return [
        {
            "st02": r.transaction_control,
            "claims": r.remittance["claim_count"],
            "bpr02": r.remittance["payment_amount"],
            "sum_clp04": r.remittance["sum_claim_paid_amount"],
            "sum_plb": r.remittance["sum_provider_adjustment_amount"],
        }
        for r in rsets
    ]
