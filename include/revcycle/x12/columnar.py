"""835 files mapped whole, column by column: the canonical records as Arrow tables, vectorised with numpy.

The set-by-set mapper (``revcycle.x12.remittance``) stays the reference and the fallback.  This module
gives the same tables as ``to_table`` of that mapper's records, row for row and key for key, or declines
the file (``None``); the caller then streams it through the set-by-set mapper, which also gives any
refusal its exact reason and place.  It declines what it does not vectorise: a file over the size limit,
a NUL or non-UTF-8 byte, an unpadded or newline-terminated ISA, blanks before a segment terminator, an
envelope that does not check out, a segment out of its place (CAS or SVC outside a claim; BPR, TRN or N1
inside one), an amount that is not a plain X12 decimal of at most 15 characters or has more decimals
than its column keeps, a CAS longer than six triplets, a triplet without reason, an SVC01 without code.

How a file becomes columns:
- its bytes are cut at the element and segment separators by numpy: the elements are one Arrow string
  array over the bytes with the separators taken out, each segment a range of it;
- which claim and which service line a segment belongs to is a forward fill of the last CLP or SVC
  over the segment positions, reset where the set-by-set mapper resets its locals (LX, PLB, ST);
- amounts are matched against the X12 R grammar and cast to decimal128 by Arrow; dates go through
  ``date8`` once per distinct value;
- each set's header (BPR, TRN, N1, REF*2U, DTM*405, PLB: a few segments) is mapped by the set-by-set
  mapper itself, which gives the remittance key, the set's controls and its provider adjustments;
- keys are hashed from the same joined identity text; balancing sums integer cents per line, claim, set.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.domain.canonical import MONEY, QTY
from revcycle.domain.keys import joined_keys
from revcycle.domain.phi import tokenise_all
from revcycle.errors import RevcycleError, X12Error
from revcycle.x12.balancing import ZERO, cents
from revcycle.x12.reader import (
    ISA_LENGTH,
    Delimiters,
    FunctionalGroup,
    Interchange,
    digits,
    isa_span,
    parse_isa,
    same_number,
)
from revcycle.x12.remittance import ONE, REMARK_POSITIONS, REVERSAL_STATUS, RemittanceSet, map_set
from revcycle.x12.sets import VERSIONS
from revcycle.x12.values import date8

CLAIM_LEVEL = (
    "canonical__claim_payment",
    "canonical__service_line_payment",
    "canonical__adjustment",
    "canonical__remark",
)
BALANCE = "check__balance"
_BLANKS = b" \t\r\n"
_X12_DECIMAL = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
_FAST_LENGTH = 15  # as values.amount: no longer than this, no amount has too many integer digits
_TAG = re.compile(r"[A-Z0-9]{2,3}")
_ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1")
_NULL = pa.scalar(None, pa.string())


class Declined(Exception):
    """The file is not one this path maps: the set-by-set mapper reads it (and refuses it, if it must)."""


@dataclass
class Envelope:
    """What the streaming reader knows of a file it has read: what acknowledgements and the parse result use."""

    interchanges: list[Interchange]
    segment_count: int
    warnings: list[str] = field(default_factory=list)


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
    """The file's tables, or None when the file is larger than ``max_bytes`` or declined (see module)."""
    if path.stat().st_size > max_bytes:
        return None
    data = path.read_bytes()
    try:
        return _map_file(data)
    except (Declined, RevcycleError, pa.ArrowInvalid):
        return None


def _map_file(data: bytes) -> RemittanceColumns:
    if b"\x00" in data:
        raise Declined("NUL byte")
    try:
        data.decode()
    except UnicodeDecodeError:
        raise Declined("not UTF-8") from None
    found = list(_interchanges(data))
    if not found:
        raise Declined("no interchange")
    # Interchanges, then runs of whole sets, are mapped side by side: numpy and Arrow let go of the GIL, so
    # one thread's vectorised work runs while another hashes keys in Python.
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
        read = _each(pool, _read_interchange, found)
        chunks = [(segs.window(sets), isa, delim.component) for isa, segs, sets, delim in read for sets in _runs(sets)]
        parts = _each(pool, _map_chunk, chunks)
    envelope = Envelope([isa for isa, _, _, _ in read], sum(1 + segs.n for _, segs, _, _ in read))
    return _combine(parts, envelope)


def _each(pool: ThreadPoolExecutor, work, items: list) -> list:
    return [work(items[0])] if len(items) == 1 else list(pool.map(work, items))


CHUNK_SEGMENTS = 250_000  # a run of whole sets mapped as one piece


def _read_interchange(found: tuple[bytes, list[str], Delimiters]):
    body, fields, delim = found
    segs = _Segments(body, ord(delim.element), ord(delim.segment))
    isa = _interchange(fields, delim)
    return isa, segs, _check_envelope(segs, isa), delim


def _runs(sets: list[_Set]) -> list[list[_Set]]:
    """The sets in runs of about ``CHUNK_SEGMENTS`` segments (a set is never split)."""
    runs: list[list[_Set]] = [[]]
    size = 0
    for s in sets:
        if size >= CHUNK_SEGMENTS:
            runs.append([])
            size = 0
        runs[-1].append(s)
        size += s.se_row - s.st_row + 1
    return runs


def _map_chunk(chunk) -> _Mapped:
    (segs, sets), isa, component = chunk
    return _map_interchange(segs, sets, isa, component)


def _interchanges(data: bytes):
    """(body bytes after the ISA through the IEA's terminator, ISA fields, delimiters) per interchange."""
    n = len(data)
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < n and data[pos] in _BLANKS:
            pos += 1
        if pos >= n:
            return
        if data[pos : pos + 3] != b"ISA":
            raise Declined("text where an ISA should start")
        try:
            head = data[pos : pos + ISA_LENGTH].decode("ascii")
            if isa_span(head) != ISA_LENGTH:
                raise Declined("ISA not padded")
            fields, delim = parse_isa(head)
        except (X12Error, UnicodeDecodeError, ValueError):
            raise Declined("ISA") from None
        if delim.segment in "\r\n":
            raise Declined("newline-terminated ISA")
        term, elem = delim.segment.encode(), delim.element.encode()
        start = pos + ISA_LENGTH
        end = data.find(term, _trailer(data, start, term, elem))
        if end < 0:  # the trailer may lack its terminator at the end of the file
            yield data[start:].rstrip(_BLANKS) + term, fields, delim
            return
        yield data[start : end + 1], fields, delim
        pos = end + 1


def _trailer(data: bytes, start: int, term: bytes, elem: bytes) -> int:
    """Where the IEA segment after ``start`` begins: an ``IEA`` and element separator that follow a segment
    terminator and blanks (``bytes.find`` scans far faster than a regular expression)."""
    at = start
    while True:
        at = data.find(b"IEA" + elem, at)
        if at < 0:
            raise Declined("no IEA")
        before = data[max(start - 1, at - 64) : at].rstrip(_BLANKS)
        if before.endswith(term):
            return at
        at += 1


class _Segments:
    """One interchange's segments after its ISA: the elements as one string array, a range of it each."""

    def __init__(self, data: bytes, element: int, terminator: int) -> None:
        if len(data) >= 1 << 31:
            raise Declined("interchange over 2 GB")
        body = np.frombuffer(data, np.uint8)
        is_separator = np.equal(body, element)
        np.logical_or(is_separator, np.equal(body, terminator), out=is_separator)
        at = np.flatnonzero(is_separator).astype(np.int32)
        offsets = np.empty(len(at) + 1, np.int32)
        offsets[0] = 0
        np.subtract(at, np.arange(len(at)), out=offsets[1:], casting="unsafe")
        compact = data.translate(None, bytes((element, terminator)))
        self.values = pa.StringArray.from_buffers(len(at), pa.py_buffer(offsets), pa.py_buffer(compact))
        last = np.flatnonzero(body[at] == terminator)
        if len(last) == 0:
            raise Declined("no segment")
        if np.isin(body[at[last] - 1], np.frombuffer(_BLANKS, np.uint8)).any():
            raise Declined("blank before a segment terminator")
        last = last.astype(np.int32)
        self.first = np.empty_like(last)
        self.first[0] = 0
        self.first[1:] = last[:-1] + 1
        self.count = last - self.first + 1
        self.n = len(last)
        tags = pc.dictionary_encode(pc.utf8_trim(self.values.take(self.first), " \t\r\n"))
        self.names: list[str] = tags.dictionary.to_pylist()
        if not all(_TAG.fullmatch(name) for name in self.names):
            raise Declined("a segment id that is not two or three capitals or digits")
        self.code = tags.indices.to_numpy(zero_copy_only=False)

    def window(self, sets: list[_Set]) -> tuple[_Segments, list[_Set]]:
        """The segments of a run of consecutive sets, ST to SE, and those sets numbered within them."""
        start, stop = sets[0].st_row, sets[-1].se_row + 1
        part = copy.copy(self)
        part.first, part.count, part.code = self.first[start:stop], self.count[start:stop], self.code[start:stop]
        part.n = stop - start
        return part, [dataclasses.replace(s, st_row=s.st_row - start, se_row=s.se_row - start) for s in sets]

    def tagged(self, *names: str) -> np.ndarray:
        """A mask over the segments: those whose id is one of ``names``."""
        mask = np.zeros(self.n, bool)
        for name in names:
            if name in self.names:
                mask |= self.code == self.names.index(name)
        return mask

    def text(self, rows: np.ndarray, k: int) -> pa.StringArray:
        """Element ``k`` of each of ``rows``; empty where a segment stops before it."""
        has = self.count[rows] > k
        at = self.first[rows] + k
        if has.all():
            return self.values.take(at)
        return pc.fill_null(self.values.take(pa.array(at, mask=~has)), "")

    def lists(self, rows: np.ndarray) -> list[list[str]]:
        """The segments as the streaming reader yields them: lists of element strings, the id trimmed."""
        counts = self.count[rows]
        starts = np.repeat(self.first[rows] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        flat = self.values.take(starts + np.arange(int(counts.sum()))).to_pylist()
        out, at = [], 0
        for row, size in zip(rows.tolist(), counts.tolist(), strict=True):
            seg = flat[at : at + size]
            seg[0] = self.names[self.code[row]]
            out.append(seg)
            at += size
        return out


@dataclass
class _Set:
    st_row: int
    se_row: int
    sender: str
    interchange_control: str
    group_control: str
    control: str
    version: str


def _interchange(fields: list[str], delim) -> Interchange:
    return Interchange(
        sender_qualifier=fields[5].strip(),
        sender_id=fields[6].strip(),
        receiver_id=fields[8].strip(),
        control_number=fields[13].strip(),
        version=fields[12].strip(),
        usage=fields[15].strip(),
        date=fields[9].strip(),
        time=fields[10].strip(),
        delimiters=delim,
    )


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def _check_envelope(segs: _Segments, isa: Interchange) -> list[_Set]:
    """The envelope checks of the streaming reader and ``map_sets``; anything they would refuse is declined."""
    rows = np.flatnonzero(segs.tagged(*_ENVELOPE))
    sets: list[_Set] = []
    group: FunctionalGroup | None = None
    st: tuple[int, str, str] | None = None
    for row, seg in zip(rows.tolist(), segs.lists(rows), strict=True):
        tag = seg[0]
        if tag == "GS":
            if group is not None or st is not None or _el(seg, 1) != "HP":
                raise Declined("GS")
            group = FunctionalGroup(_el(seg, 1), _el(seg, 2), _el(seg, 3), _el(seg, 6), _el(seg, 8))
            isa.groups.append(group)
        elif tag == "ST":
            version = _el(seg, 3) or (group.version if group else "")
            if group is None or st is not None or _el(seg, 1) != "835" or version not in VERSIONS["835"]:
                raise Declined("ST")
            st = (row, _el(seg, 2), version)
            group.transaction_set_ids.append(st[1])
        elif tag == "SE":
            if st is None or group is None:
                raise Declined("SE")
            se01 = _el(seg, 1)
            if not digits(se01) or int(se01) != row - st[0] + 1 or not same_number(_el(seg, 2), st[1]):
                raise Declined("SE")
            sets.append(_Set(st[0], row, isa.sender_id, isa.control_number, group.control_number, st[1], st[2]))
            st = None
        elif tag == "GE":
            ge01 = _el(seg, 1)
            if group is None or st is not None or not digits(ge01) or int(ge01) != len(group.transaction_set_ids):
                raise Declined("GE")
            if not same_number(_el(seg, 2), group.control_number):
                raise Declined("GE")
            group = None
        elif tag == "IEA":
            iea01 = _el(seg, 1)
            if row != segs.n - 1 or group is not None or st is not None or not digits(iea01):
                raise Declined("IEA")
            if int(iea01) != len(isa.groups) or not same_number(_el(seg, 2), isa.control_number):
                raise Declined("IEA")
        else:
            raise Declined(tag)
    if not sets or rows[-1] != segs.n - 1:
        raise Declined("no set, or no IEA")
    depth = np.zeros(segs.n + 1, np.int64)
    np.add.at(depth, [s.st_row for s in sets], 1)
    np.add.at(depth, [s.se_row + 1 for s in sets], -1)
    outside = np.cumsum(depth[:-1]) == 0
    if (outside & ~segs.tagged(*_ENVELOPE)).any():
        raise Declined("segment outside a transaction set")
    return sets


def _filled(events: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each position, ``values`` at the last event at or before it (-1 before the first)."""
    idx = np.where(events, np.arange(len(events), dtype=np.int32), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    out[: np.argmax(events) if events.any() else len(events)] = -1
    return out


def _or_none(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), _NULL, text)


def _amounts(text: pa.Array, kind: pa.DataType, required: bool = True) -> pa.Array:
    """X12 R elements as decimals; empty is null unless required.  Anything else is declined."""
    empty = pc.equal(text, "")
    if required and _any(empty):
        raise Declined("a required amount is empty")
    ok = pc.and_(pc.match_substring_regex(text, _X12_DECIMAL), pc.less_equal(pc.utf8_length(text), _FAST_LENGTH))
    if _any(pc.invert(pc.or_(ok, empty))):
        raise Declined("an amount that is no plain X12 decimal")
    return pc.cast(pc.if_else(empty, _NULL, text), kind)


def _unscaled(values: pa.Array) -> np.ndarray:
    """The integer behind each decimal128 (cents for MONEY; 0 where null): its low 64 bits, as every value
    here has at most 17 digits."""
    words = np.frombuffer(values.buffers()[1], np.int64)[2 * values.offset : 2 * (values.offset + len(values)) : 2]
    return np.where(values.is_valid().to_numpy(zero_copy_only=False), words, 0)


def _dates(text: pa.Array) -> pa.Array:
    encoded = pc.dictionary_encode(text)
    return pa.array([date8(v) for v in encoded.dictionary.to_pylist()], pa.date32()).take(encoded.indices)


def _last(owners: np.ndarray, size: int) -> np.ndarray:
    """Per owner 0..size-1, the position in ``owners`` (non-decreasing: file order) of its last entry, -1 for
    none: a later DTM, NM1 or REF of the same claim or line overwrites an earlier one in the streaming mapper."""
    pick = np.full(size, -1, np.int64)
    ends = np.flatnonzero(np.diff(owners, append=np.iinfo(np.int64).max))
    pick[owners[ends]] = ends
    return pick


def _first(owners: np.ndarray, size: int) -> np.ndarray:
    """As ``_last``, the first entry (REF*F8/1K: the first one is kept)."""
    pick = np.full(size, -1, np.int64)
    starts = np.flatnonzero(np.diff(owners, prepend=-2))
    pick[owners[starts]] = starts
    return pick


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask, min_count=0).as_py())


def _spread(values: pa.Array, pick: np.ndarray) -> pa.Array:
    """``values`` placed per owner by ``pick`` (null where -1)."""
    return values.take(pa.array(pick, mask=pick < 0))


def _hashed(*parts: pa.Array | str) -> pa.Array:
    """``joined_key`` of the parts joined by the unit separator, row by row (the text is built by Arrow)."""
    text = pc.binary_join_element_wise(
        *(p if isinstance(p, str) or pa.types.is_string(p.type) else pc.cast(p, pa.string()) for p in parts), "\x1f"
    )
    return pa.array(joined_keys(text.cast(pa.binary()).to_pylist()), pa.string())


def _labels(names: list[str], index: np.ndarray) -> pa.Array:
    """``names[i]`` for each i of ``index`` (a bool or int array), built by Arrow."""
    indices = pa.array(index.astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string())).cast(pa.string())


def _seq(groups: np.ndarray) -> np.ndarray:
    """1-based position of each entry within its run of equal (sorted) group numbers."""
    return np.arange(len(groups)) - np.searchsorted(groups, groups, "left") + 1


@dataclass
class _Mapped:
    sets: list[RemittanceSet]
    columns: dict[str, dict[str, pa.Array]]
    set_rows: dict[str, np.ndarray]
    checks: dict[str, pa.Array]
    check_rows: np.ndarray
    balanced: list[dict[str, bool]]


def _numbered(size: int, rows: np.ndarray) -> np.ndarray:
    out = np.full(size, -1, np.int32)
    out[rows] = np.arange(len(rows))
    return out


def _qualified(segs: _Segments, rows: np.ndarray, k: int = 1) -> np.ndarray:
    """Element ``k`` (a qualifier) of each of ``rows``, as a numpy array to select rows with."""
    return segs.text(rows, k).to_numpy(zero_copy_only=False)


class _Chunk:
    """A run of whole sets, and where each of its segments sits: its set, its 2100 claim and its 2110 line
    (-1: none), as the set-by-set mapper's locals hold them when it reaches that segment."""

    def __init__(self, segs: _Segments, sets: list[_Set]) -> None:
        self.segs, self.sets = segs, sets
        is_clp, is_svc = segs.tagged("CLP"), segs.tagged("SVC")
        closes = segs.tagged("LX", "PLB", "ST")  # LX and PLB close the claim, and ST begins another set
        self.clp_rows, self.svc_rows = np.flatnonzero(is_clp), np.flatnonzero(is_svc)
        self.claim_of = _filled(is_clp | closes, _numbered(segs.n, self.clp_rows))
        self.line_of = _filled(is_svc | is_clp | closes, _numbered(segs.n, self.svc_rows))
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
            "claim_seq": pa.array(_seq(self.claim_set), pa.int32()),
            "patient_control_number": _or_none(segs.text(rows, 1)),
            "claim_status_code": status,
            "charge_amount": _amounts(segs.text(rows, 3), MONEY),
            "paid_amount": _amounts(self.paid_text, MONEY),
            "patient_responsibility_amount": _amounts(segs.text(rows, 5), MONEY, required=False),
            "claim_filing_indicator": _or_none(segs.text(rows, 6)),
            "payer_claim_control_number": _or_none(segs.text(rows, 7)),
            "facility_type_code": _or_none(segs.text(rows, 8)),
            "claim_frequency_code": _or_none(segs.text(rows, 9)),
            "drg_code": _or_none(segs.text(rows, 11)),
            "is_reversal": pc.equal(status, REVERSAL_STATUS),
        }
        nm1 = self.inside("NM1")
        entity = _qualified(segs, nm1)
        for column, who in (("patient_token", "QC"), ("insured_token", "IL")):
            rows = nm1[entity == who]  # a later NM1 of the same entity overwrites an earlier one
            tokens = pa.array(tokenise_all(segs.text(rows, 9).to_pylist()), pa.string())
            claims[column] = _spread(tokens, _last(self.claim_of[rows], size))
        dtm = self.inside("DTM", in_line=False)
        qualifier = _qualified(segs, dtm)
        for column, qual in (("statement_from_date", "232"), ("statement_to_date", "233"), ("received_date", "050")):
            rows = dtm[qualifier == qual]
            claims[column] = _spread(_dates(segs.text(rows, 2)), _last(self.claim_of[rows], size))
        amt = self.inside("AMT", in_line=False)
        amt = amt[_qualified(segs, amt) == "AU"]
        claims["coverage_amount"] = _spread(_amounts(segs.text(amt, 2), MONEY), _last(self.claim_of[amt], size))
        ref = self.inside("REF", in_line=False)
        rows = ref[np.isin(_qualified(segs, ref), ["F8", "1K"])]
        claims["original_reference"] = _spread(segs.text(rows, 2), _first(self.claim_of[rows], size))
        return claims

    def lines(self, comp: str) -> dict[str, pa.Array]:
        """2110 SVC, with its REF*6R and DTM 472/150/151."""
        segs, rows = self.segs, self.svc_rows
        parts = pc.split_pattern(segs.text(rows, 1), comp)
        if _any(pc.less(pc.list_value_length(parts), 2)):
            raise Declined("SVC01 is not qualifier:code")
        qualifier, code = pc.list_element(parts, 0), pc.list_element(parts, 1)
        modifiers = pc.list_slice(parts, 2, 6)  # SVC01-3..6; SVC01-7 is a description
        if _any(pc.equal(qualifier, "")) or _any(pc.equal(code, "")) or _any(pc.equal(modifiers.flatten(), "")):
            raise Declined("SVC01 is not qualifier:code[:modifier...]")
        lines = {
            "line_seq": pa.array(_seq(self.line_claim), pa.int32()),
            "procedure_qualifier": qualifier,
            "procedure_code": code,
            "procedure_modifiers": _or_none(pc.binary_join(modifiers, ":")),
            "charge_amount": _amounts(segs.text(rows, 2), MONEY),
            "paid_amount": _amounts(segs.text(rows, 3), MONEY),
            "revenue_code": _or_none(segs.text(rows, 4)),
            "units_paid": pc.fill_null(_amounts(segs.text(rows, 5), QTY, required=False), pa.scalar(ONE, QTY)),
        }
        ref = self.inside("REF", in_line=True)
        rows = ref[_qualified(segs, ref) == "6R"]
        lines["line_control_number"] = _spread(segs.text(rows, 2), _last(self.line_of[rows], self.nlines))
        dtm = self.inside("DTM", in_line=True)
        qualifier = _qualified(segs, dtm)
        for column, quals in (("service_date", ["472", "150"]), ("service_date_end", ["151"])):
            rows = dtm[np.isin(qualifier, quals)]
            lines[column] = _spread(_dates(segs.text(rows, 2)), _last(self.line_of[rows], self.nlines))
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
        cas_seq[cas] = _seq(self.claim_of[cas])  # numbered within the claim, claim and line level alike
        return {
            "level": _labels(["claim", "service_line"], self.in_line[self.adj_row]),
            "cas_seq": pa.array(cas_seq[self.adj_row], pa.int32()),
            "triplet_seq": pa.array(np.concatenate([np.full(len(f[0]), f[1], np.int32) for f in found])[order]),
            "group_code": segs.text(self.adj_row, 1),
            "reason_code": pa.concat_arrays([f[2] for f in found]).take(take),
            "amount": _amounts(pa.concat_arrays([f[3] for f in found]).take(take), MONEY),
            "quantity": _amounts(pa.concat_arrays([f[4] for f in found]).take(take), QTY, required=False),
        }

    def remarks(self) -> dict[str, pa.Array]:
        """RARC codes: MOA/MIA at the claim, LQ*HE at the line; (segment, position) in file order."""
        segs = self.segs
        owned = self.in_claim & segs.tagged(*REMARK_POSITIONS)
        lq = np.flatnonzero(owned & segs.tagged("LQ"))
        owned[lq[_qualified(segs, lq) != "HE"]] = False
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
            "level": _labels(["claim", "service_line"], self.in_line[self.remark_row]),
            "segment": _labels(tags, tag_index),
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
        adj_cents = _unscaled(adjustments["amount"])
        adj_line = self.line_of[self.adj_row]
        line_cas = np.zeros(self.nlines, np.int64)
        np.add.at(line_cas, adj_line[adj_line >= 0], adj_cents[adj_line >= 0])
        claim_cas = np.zeros(self.nclaims, np.int64)
        np.add.at(claim_cas, self.claim_of[self.adj_row], adj_cents)
        line_diff = _unscaled(lines["charge_amount"]) - line_cas - _unscaled(lines["paid_amount"])
        claim_diff = _unscaled(claims["charge_amount"]) - claim_cas - _unscaled(claims["paid_amount"])
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
            "level": _labels(["service_line", "claim", "transaction"], level[order]),
            "key": pa.concat_arrays(keys).take(pa.array(order)),
            "transaction_control_number": _labels([s.control for s in self.sets], check_set[order]),
            "difference_cents": pa.array(np.concatenate([line_diff, claim_diff, set_diff])[order]),
        }
        lines_ok = np.bincount(line_set[line_diff != 0], minlength=self.nsets) == 0
        claims_ok = np.bincount(self.claim_set[claim_diff != 0], minlength=self.nsets) == 0
        balanced = [
            {"service_line": bool(lines_ok[k]), "claim": bool(claims_ok[k]), "transaction": bool(set_diff[k] == 0)}
            for k in range(self.nsets)
        ]
        return checks, np.bincount(check_set, minlength=self.nsets), balanced


def _map_interchange(segs: _Segments, sets: list[_Set], isa: Interchange, comp: str) -> _Mapped:
    chunk = _Chunk(segs, sets)
    claims, lines = chunk.claims(), chunk.lines(comp)
    adjustments, remarks = chunk.adjustments(), chunk.remarks()
    rsets = chunk.headers(comp)

    # Keys: the same joined identity text as the set-by-set mapper's, hashed.
    rkeys = pa.array([r.remittance["remittance_key"] for r in rsets], pa.string()).take(chunk.claim_set)
    claim_keys = _hashed(rkeys, "CLP", claims["claim_seq"])
    line_ckeys = claim_keys.take(chunk.line_claim)
    line_keys = _hashed(line_ckeys, "SVC", lines["line_seq"])
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
        "adjustment_key": _hashed(owner, "CAS", adjustments["cas_seq"], adjustments["triplet_seq"]),
        **owners,
        **adjustments,
    }
    owners = chunk.owners(chunk.remark_row, claim_keys, line_keys, rkeys)
    owner = pc.coalesce(owners["service_line_key"], owners["claim_payment_key"])
    remarks = {
        "remark_key": _hashed(owner, remarks["segment"], pa.array(chunk.remark_position)),
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
