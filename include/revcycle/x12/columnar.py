"""X12 files mapped whole, column by column: the machinery the columnar 835 and 277 mappers share.

A columnar mapper gives the same tables as ``to_table`` of its set-by-set mapper's records (the reference,
``revcycle.x12.remittance`` and ``revcycle.x12.claim_status``), row for row and key for key, or declines
the file (``Declined``); the caller then streams it through the set-by-set mapper, which also gives any
refusal its exact reason and place.  What every columnar mapper declines: a NUL or non-UTF-8 byte, an
unpadded or newline-terminated ISA, blanks before a segment terminator, a segment id that is not two or
three capitals or digits, an envelope that the streaming reader or ``map_sets`` would refuse (counts,
controls, GS01/ST01, implementation guide, an interchange without sets, a segment outside a set), and an
amount that is not a plain X12 decimal of at most 15 characters or has more decimals than its column.

How a file becomes columns:
- its bytes are cut at the element and segment separators by numpy: the elements are one Arrow string
  array over the bytes with the separators taken out, each segment a range of it (``Segments``);
- the loop a segment belongs to is a forward fill (``filled``) of the last segment that opened one, reset
  where the set-by-set mapper resets its locals;
- amounts are matched against the X12 R grammar and cast to decimal128 by Arrow; dates go through
  ``date8`` once per distinct value; keys are hashed from the same joined identity text;
- interchanges, and runs of whole sets within one, are mapped side by side on threads: numpy and Arrow
  let go of the GIL, so one thread's vectorised work runs while another hashes keys in Python.
"""

from __future__ import annotations

import codecs
import copy
import dataclasses
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.domain.keys import joined_keys
from revcycle.errors import RevcycleError, X12Error
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
from revcycle.x12.sets import VERSIONS
from revcycle.x12.values import date8

_BLANKS = b" \t\r\n"
_X12_DECIMAL = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
_FAST_LENGTH = 15  # as values.amount: no longer than this, no amount has too many integer digits
_TAG = re.compile(r"[A-Z0-9]{2,3}")
_ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1")
_KEY_BATCH = 65536  # keys hashed per batch
_BLOCK = 1 << 22  # bytes (or separator positions) handled at a time while a file is cut into elements
NULL_TEXT = pa.scalar(None, pa.string())


class Declined(Exception):
    """The file is not one this path maps: the set-by-set mapper reads it (and refuses it, if it must)."""


@dataclass
class Envelope:
    """What the streaming reader knows of a file it has read: what acknowledgements and the parse result use."""

    interchanges: list[Interchange]
    segment_count: int
    warnings: list[str] = field(default_factory=list)


DECLINES = (Declined, RevcycleError, pa.ArrowInvalid)  # what a columnar mapping may raise to decline a file


def map_path(
    path: Path, max_bytes: int, functional_id: str, set_id: str, map_chunk: Callable
) -> tuple[Envelope, Iterator] | None:
    """``map_file`` of the file, or None when it is larger than ``max_bytes`` or declined at its envelopes."""
    if path.stat().st_size > max_bytes:
        return None
    try:
        return map_file(path.read_bytes(), functional_id, set_id, map_chunk)
    except DECLINES:
        return None


def mapped_whole(path: Path, max_bytes: int, functional_id: str, set_id: str, map_chunk: Callable, combine: Callable):
    """``combine(every run's result, envelope)``, or None when the file is too large or declined anywhere."""
    found = map_path(path, max_bytes, functional_id, set_id, map_chunk)
    if found is None:
        return None
    envelope, parts = found
    try:
        return combine(list(parts), envelope)
    except DECLINES:
        return None


def mapped_in_runs(
    path: Path, max_bytes: int, functional_id: str, set_id: str, map_chunk: Callable, combine: Callable
) -> tuple[Envelope, Iterator] | None:
    """The envelope and ``combine([run's result], envelope)`` run by run, or None when the file is too large or
    declined at its envelopes; a run may still be declined when it is reached (``DECLINES``)."""
    found = map_path(path, max_bytes, functional_id, set_id, map_chunk)
    if found is None:
        return None
    envelope, parts = found
    return envelope, (combine([p], envelope) for p in parts)


def map_file(data: bytes, functional_id: str, set_id: str, map_chunk: Callable) -> tuple[Envelope, Iterator]:
    """Check the file's envelopes, then hand each run of whole sets to ``map_chunk(segments, sets, component)``:
    the envelope, and an iterator of what ``map_chunk`` returns for each run, in file order.

    Memory is bounded by the file's segments (about twice its size) and the runs in flight: the iterator maps
    at most one run ahead of each thread, so a caller that stages each run before taking the next never
    holds more than those (``bench/run.py`` stage 1d).  A run may still be declined as the iterator reaches
    it (``DECLINES``): a caller that has staged earlier runs discards them."""
    if b"\x00" in data:
        raise Declined("NUL byte")
    if not data.isascii() and not _utf8(data):
        raise Declined("not UTF-8")
    found = list(_interchanges(data))
    if not found:
        raise Declined("no interchange")
    del data  # each interchange's body is a view of it: they are let go once their segments are read
    threads = min(os.cpu_count() or 1, 4)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        read = _each(pool, lambda item: _read_interchange(item, functional_id, set_id), found)
    del found
    chunks = [(segs.window(run), delim.component) for _, segs, sets, delim in read for run in _runs(sets)]
    envelope = Envelope([isa for isa, _, _, _ in read], sum(1 + segs.n for _, segs, _, _ in read))
    return envelope, _in_order(lambda chunk: map_chunk(*chunk[0], chunk[1]), chunks, threads)


def _utf8(data: bytes) -> bool:
    """Whether the bytes are UTF-8, decoded a megabyte at a time (never a copy of the whole file as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for at in range(0, len(view), 1 << 20):
            decoder.decode(view[at : at + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _each(pool: ThreadPoolExecutor, work, items: list) -> list:
    return [work(items[0])] if len(items) == 1 else list(pool.map(work, items))


def _in_order(work: Callable, items: list, ahead: int) -> Iterator:
    """``work(item)`` of each item, in order, on ``ahead`` threads with at most ``ahead`` in flight; ``items``
    are let go as they are taken.  The threads start with the first item taken and stop when the iterator
    ends or is dropped."""
    if len(items) == 1:  # one run: mapped here, as the caller waits for it anyway
        yield work(items.pop())
        return
    pending: deque = deque()
    pool = ThreadPoolExecutor(max_workers=ahead)
    try:
        while items or pending:
            while items and len(pending) < ahead:
                pending.append(pool.submit(work, items.pop(0)))
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


CHUNK_SEGMENTS = 125_000  # a run of whole sets mapped as one piece (250k: 3% faster, 25% more memory)


def _read_interchange(found: tuple[bytes, list[str], Delimiters], functional_id: str, set_id: str):
    body, fields, delim = found
    segs = Segments(body, ord(delim.element), ord(delim.segment))
    isa = Interchange.from_isa(fields, delim)
    return isa, segs, _check_envelope(segs, isa, functional_id, set_id), delim


def _runs(sets: list[SetSpan]) -> list[list[SetSpan]]:
    """The sets in runs of about ``CHUNK_SEGMENTS`` segments (a set is never split)."""
    runs: list[list[SetSpan]] = [[]]
    size = 0
    for s in sets:
        if size >= CHUNK_SEGMENTS:
            runs.append([])
            size = 0
        runs[-1].append(s)
        size += s.se_row - s.st_row + 1
    return runs


def _interchanges(data: bytes):
    """(body after the ISA through the IEA's terminator, ISA fields, delimiters) per interchange; the body is a
    view of ``data``, not a copy."""
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
        yield memoryview(data)[start : end + 1], fields, delim
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


def _separators(block: np.ndarray, element: int, terminator: int) -> np.ndarray:
    is_separator = np.equal(block, element)
    return np.logical_or(is_separator, np.equal(block, terminator), out=is_separator)


class Segments:
    """One interchange's segments after its ISA: the elements as one string array, a range of it each."""

    def __init__(self, data: bytes | memoryview, element: int, terminator: int) -> None:
        if len(data) >= 1 << 31:
            raise Declined("interchange over 2 GB")
        body = np.frombuffer(data, np.uint8)
        # Block by block, so that no temporary is the size of the file: first how many separators there are,
        # then the bytes between them (the elements, end to end), where each element ends (its separator's
        # position less the separators before it) and which separators end a segment.
        blocks = range(0, len(body), _BLOCK)
        first = _separators(body[:_BLOCK], element, terminator)  # kept: most interchanges are one block
        n = int(np.count_nonzero(first)) + sum(
            int(np.count_nonzero(_separators(body[lo : lo + _BLOCK], element, terminator))) for lo in blocks[1:]
        )
        compact = np.empty(len(body) - n, np.uint8)
        offsets = np.empty(n + 1, np.int32)
        offsets[0] = 0
        ends_segment = np.empty(n, bool)
        before = 0  # separators in the blocks already done
        for lo in blocks:
            block = body[lo : lo + _BLOCK]
            is_separator = first if lo == 0 else _separators(block, element, terminator)
            at = np.flatnonzero(is_separator).astype(np.int32)
            k = len(at)
            np.equal(block[at], terminator, out=ends_segment[before : before + k])
            at += lo - before
            at -= np.arange(k, dtype=np.int32)
            offsets[before + 1 : before + 1 + k] = at
            np.logical_not(is_separator, out=is_separator)
            compact[lo - before : lo - before + len(block) - k] = block[is_separator]
            before += k
        self.values = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(compact))
        last = np.flatnonzero(ends_segment).astype(np.int32)
        del ends_segment
        if len(last) == 0:
            raise Declined("no segment")
        # Where each terminator sits in the body: where its element ends, plus the separators before it.
        if np.isin(body[offsets[last + 1] + last - 1], np.frombuffer(_BLANKS, np.uint8)).any():
            raise Declined("blank before a segment terminator")
        self.first = np.empty_like(last)
        self.first[0] = 0
        self.first[1:] = last[:-1] + 1
        self.count = last - self.first + 1
        self.n = len(last)
        # Blanks before an id belong to the segment's start, which the streaming reader strips; blanks after
        # it stay part of the id there ("ST\r\n" is no ST), so they are kept here and make the id unknown.
        tags = pc.dictionary_encode(pc.utf8_ltrim(self.values.take(self.first), " \t\r\n"))
        self.names: list[str] = tags.dictionary.to_pylist()
        if not all(_TAG.fullmatch(name) for name in self.names):
            raise Declined("a segment id that is not two or three capitals or digits")
        self.code = tags.indices.to_numpy(zero_copy_only=False)

    def window(self, sets: list[SetSpan]) -> tuple[Segments, list[SetSpan]]:
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
class SetSpan:
    st_row: int
    se_row: int
    sender: str
    interchange_control: str
    group_control: str
    control: str
    version: str


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def _check_envelope(segs: Segments, isa: Interchange, functional_id: str, set_id: str) -> list[SetSpan]:
    """The envelope checks of the streaming reader and ``map_sets``; anything they would refuse is declined."""
    rows = np.flatnonzero(segs.tagged(*_ENVELOPE))
    sets: list[SetSpan] = []
    group: FunctionalGroup | None = None
    st: tuple[int, str, str] | None = None
    for row, seg in zip(rows.tolist(), segs.lists(rows), strict=True):
        tag = seg[0]
        if tag == "GS":
            if group is not None or st is not None or _el(seg, 1) != functional_id:
                raise Declined("GS")
            group = FunctionalGroup(_el(seg, 1), _el(seg, 2), _el(seg, 3), _el(seg, 6), _el(seg, 8))
            isa.groups.append(group)
        elif tag == "ST":
            version = _el(seg, 3) or (group.version if group else "")
            if group is None or st is not None or _el(seg, 1) != set_id or version not in VERSIONS[set_id]:
                raise Declined("ST")
            st = (row, _el(seg, 2), version)
            group.transaction_set_ids.append(st[1])
        elif tag == "SE":
            if st is None or group is None:
                raise Declined("SE")
            se01 = _el(seg, 1)
            if not digits(se01) or int(se01) != row - st[0] + 1 or not same_number(_el(seg, 2), st[1]):
                raise Declined("SE")
            sets.append(SetSpan(st[0], row, isa.sender_id, isa.control_number, group.control_number, st[1], st[2]))
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


def filled(events: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each position, ``values`` at the last event at or before it (-1 before the first)."""
    idx = np.where(events, np.arange(len(events), dtype=np.int32), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    out[: np.argmax(events) if events.any() else len(events)] = -1
    return out


def or_none(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), NULL_TEXT, text)


def amounts(text: pa.Array, kind: pa.DataType, required: bool = True) -> pa.Array:
    """X12 R elements as decimals; empty is null unless required.  Anything else is declined."""
    empty = pc.equal(text, "")
    if required and any_true(empty):
        raise Declined("a required amount is empty")
    ok = pc.and_(pc.match_substring_regex(text, _X12_DECIMAL), pc.less_equal(pc.utf8_length(text), _FAST_LENGTH))
    if any_true(pc.invert(pc.or_(ok, empty))):
        raise Declined("an amount that is no plain X12 decimal")
    return pc.cast(pc.if_else(empty, NULL_TEXT, text), kind)


def unscaled(values: pa.Array) -> np.ndarray:
    """The integer behind each decimal128 (cents for MONEY; 0 where null): its low 64 bits, as every value
    here has at most 17 digits."""
    words = np.frombuffer(values.buffers()[1], np.int64)[2 * values.offset : 2 * (values.offset + len(values)) : 2]
    return np.where(values.is_valid().to_numpy(zero_copy_only=False), words, 0)


def dates(text: pa.Array) -> pa.Array:
    encoded = pc.dictionary_encode(text)
    return pa.array([date8(v) for v in encoded.dictionary.to_pylist()], pa.date32()).take(encoded.indices)


def last_of(owners: np.ndarray, size: int) -> np.ndarray:
    """Per owner 0..size-1, the position in ``owners`` (non-decreasing: file order) of its last entry, -1 for
    none: a later DTM, NM1 or REF of the same claim or line overwrites an earlier one in the streaming mapper."""
    pick = np.full(size, -1, np.int64)
    ends = np.flatnonzero(np.diff(owners, append=np.iinfo(np.int64).max))
    pick[owners[ends]] = ends
    return pick


def first_of(owners: np.ndarray, size: int) -> np.ndarray:
    """As ``last_of``, the first entry (REF*F8/1K: the first one is kept)."""
    pick = np.full(size, -1, np.int64)
    starts = np.flatnonzero(np.diff(owners, prepend=-2))
    pick[owners[starts]] = starts
    return pick


def any_true(mask: pa.Array) -> bool:
    return bool(pc.any(mask, min_count=0).as_py())


def spread(values: pa.Array, pick: np.ndarray) -> pa.Array:
    """``values`` placed per owner by ``pick`` (null where -1)."""
    return values.take(pa.array(pick, mask=pick < 0))


def hashed(*parts: pa.Array | str) -> pa.Array:
    """``joined_key`` of the parts joined by the unit separator, row by row (the text is built by Arrow)."""
    text = pc.binary_join_element_wise(
        *(p if isinstance(p, str) or pa.types.is_string(p.type) else pc.cast(p, pa.string()) for p in parts), "\x1f"
    ).cast(pa.binary())
    # A batch at a time: the texts as Python bytes and the keys as Python text exist for one batch only.
    batches = range(0, len(text), _KEY_BATCH)
    keys = [pa.array(joined_keys(text.slice(at, _KEY_BATCH).to_pylist()), pa.string()) for at in batches]
    if len(keys) == 1:
        return keys[0]
    return pa.concat_arrays(keys) if keys else pa.array([], pa.string())


def labels(names: list[str], index: np.ndarray) -> pa.Array:
    """``names[i]`` for each i of ``index`` (a bool or int array), built by Arrow."""
    indices = pa.array(index.astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string())).cast(pa.string())


def seq_within(groups: np.ndarray) -> np.ndarray:
    """1-based position of each entry within its run of equal (sorted) group numbers."""
    return np.arange(len(groups)) - np.searchsorted(groups, groups, "left") + 1


def numbered(size: int, rows: np.ndarray) -> np.ndarray:
    out = np.full(size, -1, np.int32)
    out[rows] = np.arange(len(rows))
    return out


def qualified(segs: Segments, rows: np.ndarray, k: int = 1) -> np.ndarray:
    """Element ``k`` (a qualifier) of each of ``rows``, as a numpy array to select rows with."""
    return segs.text(rows, k).to_numpy(zero_copy_only=False)


def list_item(lists: pa.Array, k: int) -> pa.Array:
    """Item ``k`` of each list (a split composite); empty where a list is shorter."""
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    offsets = lists.offsets.to_numpy()[:-1] - lists.offsets[0].as_py()
    has = lengths > k
    return pc.fill_null(lists.flatten().take(pa.array(offsets + k, mask=~has)), "")


def carried(size: int, setters: np.ndarray, resets: np.ndarray) -> np.ndarray:
    """For each position, which of ``setters`` (rows, in order) last set a value, or -1 where none has since
    the last of ``resets``: a value a set-by-set mapper keeps in a local until something clears it."""
    events = np.zeros(size, bool)
    events[setters] = True
    events[resets] = True
    return filled(events, numbered(size, setters))
