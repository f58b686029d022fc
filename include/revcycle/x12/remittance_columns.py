"""835 files mapped whole, column by column (``revcycle.x12.columnar``): the canonical remittance tables.

The set-by-set mapper (``revcycle.x12.remittance``) stays the reference and the fallback: this gives the
same tables as ``to_table`` of its records and ``balancing.balance`` of its sets, or declines the file.
Besides what every columnar mapper declines, it declines a segment out of its place (CAS or SVC outside
a claim; BPR, TRN or N1 inside one), a CAS longer than six triplets, a triplet without reason, and an
SVC01 that is not qualifier:code.

Which claim and which service line a segment belongs to is a forward fill of the last CLP or SVC over the
segment positions, reset by LX, PLB and ST, where the set-by-set mapper resets its locals.  Each set's
header (BPR, TRN, N1, REF*2U, DTM*405, LX, PLB: a few segments) is mapped by the set-by-set mapper itself,
which gives the remittance key, the set's controls and its provider adjustments.  Balancing sums integer
cents per line, claim and set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.domain.canonical import MONEY, QTY
from revcycle.domain.phi import tokenise_all
from revcycle.x12.balancing import ZERO, cents
from revcycle.x12.columnar import (
    Declined,
    Envelope,
    Segments,
    SetSpan,
    amounts,
    any_true,
    carried,
    dates,
    first_of,
    hashed,
    labels,
    last_of,
    map_file,
    mapped_in_runs,
    mapped_whole,
    or_none,
    qualified,
    seq_within,
    spread,
    unscaled,
)
from revcycle.x12.remittance import ONE, REMARK_POSITIONS, REVERSAL_STATUS, RemittanceSet, map_set

CLAIM_LEVEL = (
    "canonical__claim_payment",
    "canonical__service_line_payment",
    "canonical__adjustment",
    "canonical__remark",
)
BALANCE = "check__balance"


@dataclass
class RemittanceColumns:
    """A whole 835: each set's header records (``sets``: the remittance and its provider adjustments, as the
    set-by-set mapper makes them), and the claim-level datasets and balance checks of every set as one
    table each (no lineage columns yet), with their rows per set, in set order."""

    envelope: Envelope
    sets: list[RemittanceSet]
    tables: dict[str, pa.Table]
    set_rows: dict[str, np.ndarray]
    balanced: list[dict[str, bool]]


def remittance_columns(path: Path, max_bytes: int) -> RemittanceColumns | None:
    """The file's tables, whole, or None when the file is larger than ``max_bytes`` or declined (see module)."""
    return mapped_whole(path, max_bytes, "HP", "835", _map_chunk, _combine)


def remittance_parts(path: Path, max_bytes: int) -> tuple[Envelope, Iterator[RemittanceColumns]] | None:
    """The file's envelope and its tables run by run of whole sets (``columnar.map_file``: a caller that stages
    each run before taking the next holds one run's tables, not the file's), or None when the file is larger
    than ``max_bytes`` or declined at its envelopes.  A run may still be declined when it is reached
    (``DECLINES``)."""
    return mapped_in_runs(path, max_bytes, "HP", "835", _map_chunk, _combine)


def _map_file(data: bytes) -> RemittanceColumns:
    envelope, parts = map_file(data, "HP", "835", _map_chunk)
    return _combine(list(parts), envelope)


@dataclass
class _Mapped:
    sets: list[RemittanceSet]
    columns: dict[str, dict[str, pa.Array]]
    set_rows: dict[str, np.ndarray]
    checks: dict[str, pa.Array]
    check_rows: np.ndarray
    balanced: list[dict[str, bool]]


class _Chunk:
    """A run of whole sets, and where each of its segments sits: its set, its 2100 claim and its 2110 line
    (-1: none), as the set-by-set mapper's locals hold them when it reaches that segment."""

    def __init__(self, segs: Segments, sets: list[SetSpan]) -> None:
        self.segs, self.sets = segs, sets
        self.clp_rows, self.svc_rows = np.flatnonzero(segs.tagged("CLP")), np.flatnonzero(segs.tagged("SVC"))
        closes = np.flatnonzero(segs.tagged("LX", "PLB", "ST"))  # LX and PLB close the claim; ST begins a set
        self.claim_of = carried(segs.n, self.clp_rows, closes)
        self.line_of = carried(segs.n, self.svc_rows, np.concatenate([closes, self.clp_rows]))
        self.set_of = np.cumsum(segs.tagged("ST"), dtype=np.int32) - 1
        self.cas_rows = np.flatnonzero(segs.tagged("CAS"))
        if (self.claim_of[self.svc_rows] < 0).any() or (self.claim_of[self.cas_rows] < 0).any():
            raise Declined("SVC or CAS outside a claim")
        if (self.claim_of[np.flatnonzero(segs.tagged("BPR", "TRN", "N1"))] >= 0).any():
            raise Declined("BPR, TRN or N1 inside a claim")
        self.in_claim, self.in_line = self.claim_of >= 0, self.line_of >= 0
        self.claim_set = self.set_of[self.clp_rows]
        self.line_claim = self.claim_of[self.svc_rows]
        self.nclaims, self.nlines, self.nsets = len(self.clp_rows), len(self.svc_rows), len(sets)

    def inside(self, tag: str, in_line: bool | None = None) -> np.ndarray:
        """Rows of ``tag`` inside a claim: at its line level (True), at claim level (False), or either."""
        mask = self.segs.tagged(tag) & self.in_claim
        if in_line is not None:
            mask &= self.in_line if in_line else ~self.in_line
        return np.flatnonzero(mask)

    def claims(self) -> dict[str, pa.Array]:
        """2100 CLP, with its NM1 QC/IL tokens, DTM 232/233/050, AMT*AU and REF*F8/1K."""
        segs, rows, size = self.segs, self.clp_rows, self.nclaims
        status = segs.text(rows, 2)
        self.paid_text = segs.text(rows, 4)
        claims = {
            "claim_seq": pa.array(seq_within(self.claim_set), pa.int32()),
            "patient_control_number": or_none(segs.text(rows, 1)),
            "claim_status_code": status,
            "charge_amount": amounts(segs.text(rows, 3), MONEY),
            "paid_amount": amounts(self.paid_text, MONEY),
            "patient_responsibility_amount": amounts(segs.text(rows, 5), MONEY, required=False),
            "claim_filing_indicator": or_none(segs.text(rows, 6)),
            "payer_claim_control_number": or_none(segs.text(rows, 7)),
            "facility_type_code": or_none(segs.text(rows, 8)),
            "claim_frequency_code": or_none(segs.text(rows, 9)),
            "drg_code": or_none(segs.text(rows, 11)),
            "is_reversal": pc.equal(status, REVERSAL_STATUS),
        }
        nm1 = self.inside("NM1")
        entity = qualified(segs, nm1)
        for column, who in (("patient_token", "QC"), ("insured_token", "IL")):
            rows = nm1[entity == who]  # a later NM1 of the same entity overwrites an earlier one
            tokens = pa.array(tokenise_all(segs.text(rows, 9).to_pylist()), pa.string())
            claims[column] = spread(tokens, last_of(self.claim_of[rows], size))
        dtm = self.inside("DTM", in_line=False)
        qualifier = qualified(segs, dtm)
        for column, qual in (("statement_from_date", "232"), ("statement_to_date", "233"), ("received_date", "050")):
            rows = dtm[qualifier == qual]
            claims[column] = spread(dates(segs.text(rows, 2)), last_of(self.claim_of[rows], size))
        amt = self.inside("AMT", in_line=False)
        amt = amt[qualified(segs, amt) == "AU"]
        claims["coverage_amount"] = spread(amounts(segs.text(amt, 2), MONEY), last_of(self.claim_of[amt], size))
        ref = self.inside("REF", in_line=False)
        rows = ref[np.isin(qualified(segs, ref), ["F8", "1K"])]
        claims["original_reference"] = spread(segs.text(rows, 2), first_of(self.claim_of[rows], size))
        return claims

    def lines(self, comp: str) -> dict[str, pa.Array]:
        """2110 SVC, with its REF*6R and DTM 472/150/151."""
        segs, rows = self.segs, self.svc_rows
        parts = pc.split_pattern(segs.text(rows, 1), comp)
        if any_true(pc.less(pc.list_value_length(parts), 2)):
            raise Declined("SVC01 is not qualifier:code")
        qualifier, code = pc.list_element(parts, 0), pc.list_element(parts, 1)
        modifiers = pc.list_slice(parts, 2, 6)  # SVC01-3..6; SVC01-7 is a description
        if (
            any_true(pc.equal(qualifier, ""))
            or any_true(pc.equal(code, ""))
            or any_true(pc.equal(modifiers.flatten(), ""))
        ):
            raise Declined("SVC01 is not qualifier:code[:modifier...]")
        lines = {
            "line_seq": pa.array(seq_within(self.line_claim), pa.int32()),
            "procedure_qualifier": qualifier,
            "procedure_code": code,
            "procedure_modifiers": or_none(pc.binary_join(modifiers, ":")),
            "charge_amount": amounts(segs.text(rows, 2), MONEY),
            "paid_amount": amounts(segs.text(rows, 3), MONEY),
            "revenue_code": or_none(segs.text(rows, 4)),
            "units_paid": pc.fill_null(amounts(segs.text(rows, 5), QTY, required=False), pa.scalar(ONE, QTY)),
        }
        ref = self.inside("REF", in_line=True)
        rows = ref[qualified(segs, ref) == "6R"]
        lines["line_control_number"] = spread(segs.text(rows, 2), last_of(self.line_of[rows], self.nlines))
        dtm = self.inside("DTM", in_line=True)
        qualifier = qualified(segs, dtm)
        for column, quals in (("service_date", ["472", "150"]), ("service_date_end", ["151"])):
            rows = dtm[np.isin(qualifier, quals)]
            lines[column] = spread(dates(segs.text(rows, 2)), last_of(self.line_of[rows], self.nlines))
        return lines

    def adjustments(self) -> dict[str, pa.Array]:
        """CAS triplets at claim or line level, (segment, triplet) in file order; ``adj_row``: each one's CAS."""
        segs, cas = self.segs, self.cas_rows
        if (segs.count[cas] > 20).any():
            raise Declined("CAS with elements past CAS19")
        found = []
        for triplet in range(6):  # CAS02-04, 05-07, ... 17-19
            i = 2 + 3 * triplet
            rows = cas[segs.count[cas] > i]
            reason, amount, qty = segs.text(rows, i), segs.text(rows, i + 1), segs.text(rows, i + 2)
            has = pc.not_equal(reason, "").to_numpy(zero_copy_only=False)
            stray = pc.or_(pc.not_equal(amount, ""), pc.not_equal(qty, "")).to_numpy(zero_copy_only=False)
            if (stray & ~has).any():
                raise Declined("a CAS triplet without reason")
            keep = pa.array(has)
            found.append((rows[has], triplet + 1, reason.filter(keep), amount.filter(keep), qty.filter(keep)))
        order = np.argsort(np.concatenate([f[0] for f in found]), kind="stable")  # gathered triplet by triplet
        take = pa.array(order)
        self.adj_row = np.concatenate([f[0] for f in found])[order]
        cas_seq = np.zeros(segs.n, np.int32)
        cas_seq[cas] = seq_within(self.claim_of[cas])  # numbered within the claim, claim and line level alike
        return {
            "level": labels(["claim", "service_line"], self.in_line[self.adj_row]),
            "cas_seq": pa.array(cas_seq[self.adj_row], pa.int32()),
            "triplet_seq": pa.array(np.concatenate([np.full(len(f[0]), f[1], np.int32) for f in found])[order]),
            "group_code": segs.text(self.adj_row, 1),
            "reason_code": pa.concat_arrays([f[2] for f in found]).take(take),
            "amount": amounts(pa.concat_arrays([f[3] for f in found]).take(take), MONEY),
            "quantity": amounts(pa.concat_arrays([f[4] for f in found]).take(take), QTY, required=False),
        }

    def remarks(self) -> dict[str, pa.Array]:
        """RARC codes: MOA/MIA at the claim, LQ*HE at the line; (segment, position) in file order."""
        segs = self.segs
        owned = self.in_claim & segs.tagged(*REMARK_POSITIONS)
        lq = np.flatnonzero(owned & segs.tagged("LQ"))
        owned[lq[qualified(segs, lq) != "HE"]] = False
        found = []
        for tag, positions in REMARK_POSITIONS.items():
            tag_rows = np.flatnonzero(owned & segs.tagged(tag))
            for position in positions:
                rows = tag_rows[segs.count[tag_rows] > position]
                code = segs.text(rows, position)
                has = pc.not_equal(code, "").to_numpy(zero_copy_only=False)
                found.append((rows[has], tag, position, code.filter(pa.array(has))))
        rows = np.concatenate([f[0] for f in found])
        position = np.concatenate([np.full(len(f[0]), f[2], np.int32) for f in found])
        order = np.lexsort((position, rows))
        self.remark_row, self.remark_position = rows[order], position[order]
        tags = [tag for tag, _ in REMARK_POSITIONS.items()]
        tag_index = np.concatenate([np.full(len(f[0]), tags.index(f[1]), np.int32) for f in found])[order]
        return {
            "level": labels(["claim", "service_line"], self.in_line[self.remark_row]),
            "segment": labels(tags, tag_index),
            "remark_code": pa.concat_arrays([f[3] for f in found]).take(pa.array(order)),
        }

    def headers(self, comp: str) -> list[RemittanceSet]:
        """Each set's header (BPR, TRN, N1, REF*2U, DTM*405, LX, PLB: what lies outside its claims) mapped by
        the set-by-set mapper itself, which gives the remittance record, its key and the PLB pairs."""
        segs = self.segs
        rows = np.flatnonzero((self.claim_of < 0) & (self.set_of >= 0) & ~segs.tagged("ST", "SE"))
        header = segs.lists(rows)
        bounds = np.searchsorted(self.set_of[rows], np.arange(self.nsets + 1)).tolist()
        claims = np.searchsorted(self.claim_set, np.arange(self.nsets + 1)).tolist()
        paid = self.paid_text.to_pylist()
        rsets = []
        for k, s in enumerate(self.sets):
            rset = map_set(
                RemittanceSet(s.sender, s.interchange_control, s.group_control, s.control, s.version),
                iter(header[bounds[k] : bounds[k + 1]]),
                comp,
            )
            rset.segment_count = s.se_row - s.st_row + 1
            rset.remittance["claim_count"] = claims[k + 1] - claims[k]
            # Summed as the set-by-set mapper sums them, so the control total prints the same.
            rset.remittance["sum_claim_paid_amount"] = sum(map(Decimal, paid[claims[k] : claims[k + 1]]), ZERO)
            rsets.append(rset)
        return rsets

    def owners(self, rows: np.ndarray, claim_keys: pa.Array, line_keys: pa.Array, rkeys: pa.Array) -> dict:
        """The keys of the remittance, claim and (if any) line each of ``rows`` belongs to."""
        line = self.line_of[rows]
        return {
            "remittance_key": rkeys.take(self.claim_of[rows]),
            "claim_payment_key": claim_keys.take(self.claim_of[rows]),
            "service_line_key": line_keys.take(pa.array(line, mask=line < 0)),
        }

    def checks(self, claims: dict, lines: dict, adjustments: dict, rsets: list[RemittanceSet]):
        """The three balancing levels in integer cents, as ``balancing.balance`` gives them per set:
        SVC02 - line CAS - SVC03; CLP03 - claim and line CAS - CLP04; sum(CLP04) - sum(PLB) - BPR02."""
        adj_cents = unscaled(adjustments["amount"])
        adj_line = self.line_of[self.adj_row]
        line_cas = np.zeros(self.nlines, np.int64)
        np.add.at(line_cas, adj_line[adj_line >= 0], adj_cents[adj_line >= 0])
        claim_cas = np.zeros(self.nclaims, np.int64)
        np.add.at(claim_cas, self.claim_of[self.adj_row], adj_cents)
        line_diff = unscaled(lines["charge_amount"]) - line_cas - unscaled(lines["paid_amount"])
        claim_diff = unscaled(claims["charge_amount"]) - claim_cas - unscaled(claims["paid_amount"])
        set_diff = np.array(
            [
                cents(
                    r.remittance["sum_claim_paid_amount"]
                    - r.remittance["sum_provider_adjustment_amount"]
                    - r.remittance["payment_amount"]
                )
                for r in rsets
            ],
            np.int64,
        )
        line_set = self.claim_set[self.line_claim]
        check_set = np.concatenate([line_set, self.claim_set, np.arange(self.nsets)])
        level = np.repeat([0, 1, 2], [self.nlines, self.nclaims, self.nsets])
        order = np.lexsort((np.arange(len(check_set)), level, check_set))  # per set: lines, claims, the set
        keys = [
            lines["service_line_key"],
            claims["claim_payment_key"],
            pa.array([r.remittance["remittance_key"] for r in rsets], pa.string()),
        ]
        checks = {
            "level": labels(["service_line", "claim", "transaction"], level[order]),
            "key": pa.concat_arrays(keys).take(pa.array(order)),
            "transaction_control_number": labels([s.control for s in self.sets], check_set[order]),
            "difference_cents": pa.array(np.concatenate([line_diff, claim_diff, set_diff])[order]),
        }
        lines_ok = np.bincount(line_set[line_diff != 0], minlength=self.nsets) == 0
        claims_ok = np.bincount(self.claim_set[claim_diff != 0], minlength=self.nsets) == 0
        balanced = [
            {"service_line": bool(lines_ok[k]), "claim": bool(claims_ok[k]), "transaction": bool(set_diff[k] == 0)}
            for k in range(self.nsets)
        ]
        return checks, np.bincount(check_set, minlength=self.nsets), balanced


def _map_chunk(segs: Segments, sets: list[SetSpan], comp: str) -> _Mapped:
    chunk = _Chunk(segs, sets)
    claims, lines = chunk.claims(), chunk.lines(comp)
    adjustments, remarks = chunk.adjustments(), chunk.remarks()
    rsets = chunk.headers(comp)

    # Keys: the same joined identity text as the set-by-set mapper's, hashed.
    rkeys = pa.array([r.remittance["remittance_key"] for r in rsets], pa.string()).take(chunk.claim_set)
    claim_keys = hashed(rkeys, "CLP", claims["claim_seq"])
    line_ckeys = claim_keys.take(chunk.line_claim)
    line_keys = hashed(line_ckeys, "SVC", lines["line_seq"])
    claims = {"claim_payment_key": claim_keys, "remittance_key": rkeys, **claims}
    lines = {
        "service_line_key": line_keys,
        "claim_payment_key": line_ckeys,
        "remittance_key": rkeys.take(chunk.line_claim),
        **lines,
    }
    owners = chunk.owners(chunk.adj_row, claim_keys, line_keys, rkeys)
    owner = pc.coalesce(owners["service_line_key"], owners["claim_payment_key"])
    adjustments = {
        "adjustment_key": hashed(owner, "CAS", adjustments["cas_seq"], adjustments["triplet_seq"]),
        **owners,
        **adjustments,
    }
    owners = chunk.owners(chunk.remark_row, claim_keys, line_keys, rkeys)
    owner = pc.coalesce(owners["service_line_key"], owners["claim_payment_key"])
    remarks = {
        "remark_key": hashed(owner, remarks["segment"], pa.array(chunk.remark_position)),
        **owners,
        **remarks,
    }
    checks, check_rows, balanced = chunk.checks(claims, lines, adjustments, rsets)
    set_rows = {
        "canonical__claim_payment": np.bincount(chunk.claim_set, minlength=chunk.nsets),
        "canonical__service_line_payment": np.bincount(chunk.claim_set[chunk.line_claim], minlength=chunk.nsets),
        "canonical__adjustment": np.bincount(chunk.set_of[chunk.adj_row], minlength=chunk.nsets),
        "canonical__remark": np.bincount(chunk.set_of[chunk.remark_row], minlength=chunk.nsets),
    }
    columns = {
        "canonical__claim_payment": claims,
        "canonical__service_line_payment": lines,
        "canonical__adjustment": adjustments,
        "canonical__remark": remarks,
    }
    return _Mapped(rsets, columns, set_rows, checks, check_rows, balanced)


def _combine(parts: list[_Mapped], envelope: Envelope) -> RemittanceColumns:
    tables, set_rows = {}, {}
    for name in CLAIM_LEVEL:
        tables[name] = pa.concat_tables(pa.table(p.columns[name]) for p in parts)
        set_rows[name] = np.concatenate([p.set_rows[name] for p in parts])
    tables[BALANCE] = pa.concat_tables(pa.table(p.checks) for p in parts)
    set_rows[BALANCE] = np.concatenate([p.check_rows for p in parts])
    return RemittanceColumns(
        envelope,
        [r for p in parts for r in p.sets],
        tables,
        set_rows,
        [b for p in parts for b in p.balanced],
    )


def _warm_up() -> None:
    """Map a small 835 once, so the Arrow kernels this module calls are set up at import (the first
    ``take`` alone costs 0.14 s) rather than inside the first file's parse."""
    isa = "*".join(
        ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "WARM".ljust(15), "ZZ", "WARM".ljust(15), "261124", "0800", "^"]
        + ["00501", "000000001", "0", "P", ":"]
    )
    body = [
        "GS*HP*WARM*WARM*20261124*0800*1*X*005010X221A1",
        "ST*835*0001",
        "BPR*I*10*C*ACH*CCP*01*011000015*DA*1*1**01*021000021*DA*1*20261124",
        "TRN*1*1*1",
        "N1*PR*P",
        "LX*1",
        "CLP*1*1*10*10**12*1*13*1",
        "DTM*232*20261103",
        "AMT*AU*10",
        "REF*F8*X",
        "MOA***M1",
        "SVC*HC:1:A*10*10**1",
        "DTM*472*20261103",
        "REF*6R*1",
        "CAS*CO*45*0*1",
        "LQ*HE*N1",
        "PLB*1*20261231*WO:1*0",
        "SE*17*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    _map_file("~".join([isa, *body, ""]).encode())


_warm_up()
