"""Streaming X12 reader with envelope control checks.

Delimiters come from each ISA (X12.5: ISA04's position, ISA16 and the character after it; payers use
``|``, ``^``, ``>``, ``<`` and newline, so ``*``, ``:`` and ``~`` are never assumed);
several interchanges may follow one another in one file, each with its own
delimiters.  The file is read in fixed-size chunks, so memory stays flat in
file size.  Segments come out as lists of element strings (``seg[0]`` is the
segment id); envelope segments are checked as they pass:

    SE01 = segments in the set including ST and SE;  SE02 = ST02
    GE01 = number of ST sets;                        GE02 = GS06
    IEA01 = number of GS groups;                     IEA02 = ISA13

Tolerated, because real files carry them: a UTF-8 BOM, CR/LF after
terminators, leading blanks before segments, a missing final terminator, a
newline ISA terminator with the real terminator written at the start of the
following lines (a 4010 quirk seen in the wild), and an ISA whose free-text and
id elements are not blank-padded (warning ``ISA_NOT_PADDED``: the delimiters
are still unambiguous: the 4th character, ISA16 and the character after it).
Refused with their own reasons: a NUL byte, an over-long ISA element, text
before the ISA, a set with no interchange envelope.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from revcycle.errors import X12Error

ISA_LENGTH = 106
CHUNK_SIZE = 1 << 20
_WHITESPACE = " \t\r\n\ufeff"


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str


@dataclass
class Interchange:
    """The envelope of one ISA..IEA, with what duplicate detection needs."""

    sender_qualifier: str
    sender_id: str
    receiver_id: str
    control_number: str
    version: str
    usage: str
    date: str
    time: str
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)

    @classmethod
    def from_isa(cls, fields: list[str], delimiters: Delimiters) -> Interchange:
        """The envelope of an ISA split into its 17 fields (``parse_isa``)."""
        return cls(
            sender_qualifier=fields[5].strip(),
            sender_id=fields[6].strip(),
            receiver_id=fields[8].strip(),
            control_number=fields[13].strip(),
            version=fields[12].strip(),
            usage=fields[15].strip(),
            date=fields[9].strip(),
            time=fields[10].strip(),
            delimiters=delimiters,
        )


@dataclass
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    control_number: str
    version: str
    transaction_set_ids: list[str] = field(default_factory=list)


def digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes '²' and full-width digits, which ``int`` then refuses)."""
    return text.isascii() and text.isdigit()


def same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if digits(a) and digits(b):
        return int(a) == int(b)
    return a == b


# ISA01..ISA16 fixed widths.  Senders trim the blank padding of the free-text and id elements (ISA02,
# ISA04, ISA06, ISA08: Nevada Medicaid does); any other width is wrong, and a longer element is refused.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_TRIMMABLE = (2, 4, 6, 8)
NOT_PADDED_REASON = "ISA_NOT_PADDED"  # a warning: accepted, reported
ISA_LOOKAHEAD = 512
MAX_SEGMENT_LENGTH = 1 << 20
_WINDOW = 1 << 15
_NOT_BLANK = re.compile(r"[^ \t\r\n\ufeff]")
_NOT_NEWLINE = re.compile(r"[^\r\n]")
_HEADER = re.compile(r"(ISA|GS|ST)[^A-Za-z0-9\s]")


def isa_span(text: str) -> int:
    """The length of the ISA that starts ``text``: through the 16th element separator, ISA16 and the
    segment terminator (106 when every element is padded to its width)."""
    if len(text) < 4:
        raise X12Error("ISA_SYNTAX", "file ends inside the interchange header")
    element = text[3]
    if element.isalnum() or element in _WHITESPACE:
        raise X12Error("ISA_SYNTAX", f"element separator {element!r} is not a delimiter character")
    at = 3
    for _ in range(15):
        at = text.find(element, at + 1)
        if at < 0:
            raise X12Error("ISA_SYNTAX", "interchange header has fewer than 16 elements")
    if at + 2 >= len(text):
        raise X12Error("ISA_SYNTAX", "file ends inside the interchange header")
    return at + 3


def parse_isa(isa: str) -> tuple[list[str], Delimiters]:
    """Split one ISA (as long as ``isa_span`` says) and return its elements and delimiters."""
    if len(isa) < 4 or not isa.startswith("ISA"):
        raise X12Error("ISA_SYNTAX", "interchange header does not start with ISA")
    element, component, segment = isa[3], isa[-2], isa[-1]
    if element.isalnum() or element in _WHITESPACE:
        raise X12Error("ISA_SYNTAX", f"element separator {element!r} is not a delimiter character")
    if component.isalnum() or segment.isalnum():
        raise X12Error(
            "ISA_SYNTAX",
            "ISA16 or the segment terminator is a letter or digit: the elements are not where ISA puts them",
        )
    if element in (component, segment):
        raise X12Error(
            "DELIMITER_COLLISION", "ISA declares the element separator again as component or segment separator"
        )
    fields = isa[:-1].split(element)
    if len(fields) != 17:
        raise X12Error("ISA_SYNTAX", f"ISA has {len(fields) - 1} elements, expected 16")
    for i, width in enumerate(ISA_WIDTHS, start=1):
        size = len(fields[i])
        if size > width:
            raise X12Error("ISA_TOO_LONG", f"ISA{i:02d} is {size} characters, at most {width}")
        if size < width and i not in _TRIMMABLE:
            raise X12Error("ISA_SYNTAX", f"ISA{i:02d} is {size} characters, expected {width}")
    version = fields[12]
    repetition = fields[11] if version >= "00501" and not fields[11].isalnum() else None
    delimiters = Delimiters(element, component, repetition, segment)
    used = [d for d in (element, component, repetition, segment) if d is not None]
    if len(set(used)) != len(used):
        raise X12Error("DELIMITER_COLLISION", f"ISA declares the same character for two delimiters: {used!r}")
    if not digits(fields[13].strip()):
        raise X12Error("ISA_SYNTAX", "ISA13 interchange control number is not numeric")
    return fields, delimiters


def _no_isa(head: str) -> X12Error:
    """Why a file that should open with an ISA does not: the most specific reason its first bytes allow."""
    found = re.search(r"ISA[^A-Za-z0-9\s]", head)
    if found:
        return X12Error("TEXT_BEFORE_ISA", f"{found.start()} characters of other text before the ISA")
    first = _HEADER.match(head)
    if first:
        return X12Error("MISSING_ENVELOPE", f"file starts with {first.group(1)}, not with an ISA interchange header")
    return X12Error("NOT_X12", "file holds no X12 interchange header (ISA) nor any X12 segment at its start")


def _decoded_chunks(stream: BinaryIO, size: int) -> Iterator[str]:
    """The file as text, chunk by chunk.  A NUL byte or a byte that is not UTF-8 is refused, but only after
    the text before it was handed on: a file that is no X12 at all is told so by its start, not by a byte
    further in (a Windows-1252 CSV is NOT_X12, an X12 file cut by a bad byte is NOT_UTF8)."""
    pending, offset = b"", 0  # offset: file position of pending[0]
    while True:
        data = stream.read(size)
        buf = pending + data
        nul = buf.find(b"\x00")
        refusal = None
        if nul >= 0:
            buf, refusal = buf[:nul], X12Error("NUL_BYTE", f"NUL byte at offset {offset + nul}")
        try:
            text, used = codecs.utf_8_decode(buf, "strict", not data or refusal is not None)
        except UnicodeDecodeError as exc:
            text, used = buf[: exc.start].decode("utf-8"), exc.start
            refusal = X12Error("NOT_UTF8", f"undecodable byte at offset {offset + exc.start}")
        if text:
            yield text
        if refusal is not None:
            raise refusal
        pending, offset = buf[used:], offset + used
        if not data:
            return


class X12Reader:
    """Iterate the segments of every interchange of one file, checking envelopes.

    ``reader.interchanges`` fills as the file is read;
    ``reader.delimiters`` is the current interchange's delimiters (mappers use
    its component separator); ``reader.warnings`` names what was accepted
    although the standard says otherwise (``ISA_NOT_PADDED``).

    Scanning is linear in the file: the buffer is only compacted when a chunk
    is added, blank runs are skipped without copying, and a segment may not
    outgrow ``MAX_SEGMENT_LENGTH``.
    """

    def __init__(self, stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.interchanges: list[Interchange] = []
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        self.warnings: list[str] = []

    @classmethod
    def open(cls, path: str | Path, chunk_size: int = CHUNK_SIZE) -> Iterator[list[str]]:
        with open(path, "rb") as stream:
            yield from cls(stream, chunk_size)

    def __iter__(self) -> Iterator[list[str]]:
        chunks = _decoded_chunks(self._stream, self._chunk_size)
        checker = _EnvelopeChecker(self)
        for seg in self._tokens(chunks):
            self.segment_count += 1
            checker.check(seg)
            yield seg
        checker.finish()

    # -- tokenising -----------------------------------------------------
    def _tokens(self, chunks: Iterator[str]) -> Iterator[list[str]]:
        buf, pos, eof = "", 0, False
        seen_any = False

        def more() -> bool:
            nonlocal buf, pos, eof
            if eof:
                return False
            try:
                chunk = next(chunks)
            except StopIteration:
                eof = True
                return False
            buf = buf[pos:] + chunk
            pos = 0
            return True

        def skip(pattern: re.Pattern) -> None:
            nonlocal pos
            found = pattern.search(buf, pos)
            pos = found.start() if found else len(buf)

        while True:
            # Expect an ISA: skip BOM and blanks (reading on while all is blank), then look ahead.
            while True:
                skip(_NOT_BLANK)
                ahead = len(buf) - pos
                if ahead >= ISA_LOOKAHEAD or (eof and ahead) or (ahead >= 3 and not buf.startswith("ISA", pos)):
                    break
                try:
                    if not more():
                        break
                except X12Error:
                    if seen_any or buf.startswith("ISA", pos):
                        raise
                    raise _no_isa(buf[pos:]) from None  # a refused byte before any ISA: no X12 file at all
            if pos >= len(buf):
                if not seen_any:
                    raise X12Error("EMPTY_FILE", "file holds no interchange")
                return
            if not buf.startswith("ISA", pos):
                if seen_any:
                    raise X12Error("UNEXPECTED_SEGMENT", "data after IEA is not an ISA")
                try:
                    while len(buf) - pos < 65536 and more():
                        pass
                except X12Error:
                    pass  # a refused byte further on: what comes before it tells what the file is
                raise _no_isa(buf[pos : pos + 65536])
            span = isa_span(buf[pos : pos + ISA_LOOKAHEAD])
            fields, delim = parse_isa(buf[pos : pos + span])
            if span != ISA_LENGTH and NOT_PADDED_REASON not in self.warnings:
                self.warnings.append(NOT_PADDED_REASON)
            pos += span
            if delim.segment in "\r\n":
                # Newline-terminated ISA; if the next line starts with a
                # punctuation character, that character is the real terminator.
                skip(_NOT_NEWLINE)
                nxt = buf[pos : pos + 1]
                if nxt and not nxt.isalnum() and nxt not in _WHITESPACE and nxt != delim.element:
                    delim = Delimiters(delim.element, delim.component, delim.repetition, nxt)
                    pos += 1
            self.delimiters = delim
            seen_any = True
            yield fields
            term, elem = delim.segment, delim.element
            while True:
                # Split a window of whole segments at once (C speed); after an IEA the rest of the window
                # is split again from the next ISA, so an interchange costs at most one window more.
                end = buf.rfind(term, pos, pos + _WINDOW)
                if end < 0:
                    end = buf.find(term, pos)  # one segment longer than the window, or none complete yet
                if end < 0:
                    skip(_NOT_BLANK)  # blank padding between segments is dropped, never buffered
                    if len(buf) - pos > MAX_SEGMENT_LENGTH:
                        raise X12Error(
                            "SEGMENT_TOO_LONG", f"no segment terminator within {MAX_SEGMENT_LENGTH} characters"
                        )
                    if more():
                        continue
                    text = buf[pos:].strip(_WHITESPACE)
                    pos = len(buf)
                    if text:
                        seg = text.split(elem)
                        if seg[0] != "IEA":  # only the trailer may lack its terminator: this is a cut-off file
                            raise X12Error("TRUNCATED", f"file ends inside a {seg[0][:3]!r} segment")
                        yield seg
                    return
                at = pos
                for piece in buf[pos:end].split(term):
                    at += len(piece) + 1
                    text = piece.strip(_WHITESPACE)
                    if not text:
                        continue
                    seg = text.split(elem)
                    yield seg
                    if seg[0] == "IEA":
                        pos = at
                        break
                else:
                    pos = end + 1
                    continue
                break


class _EnvelopeChecker:
    """Tracks ISA/GS/ST nesting and checks the trailer counts as they pass."""

    def __init__(self, reader: X12Reader) -> None:
        self.reader = reader
        self.isa: Interchange | None = None
        self.gs: FunctionalGroup | None = None
        self.st02: str | None = None
        self.st_segments = 0
        self.st_count = 0

    def check(self, seg: list[str]) -> None:
        tag = seg[0]
        if self.st02 is not None:
            self.st_segments += 1
            if tag != "SE":
                if tag in ("ST", "GE", "IEA", "ISA", "GS"):
                    raise X12Error("TRUNCATED", f"transaction set {self.st02} has no SE before {tag}")
                return
        if tag == "ISA":
            self._isa(seg)
        elif tag == "TA1" and self.isa is not None and self.gs is None:
            pass  # interchange acknowledgement: lives between ISA and IEA, outside groups
        elif tag == "GS":
            if self.isa is None or self.gs is not None:
                raise X12Error("UNEXPECTED_SEGMENT", "GS outside an interchange or inside a group")
            self.gs = FunctionalGroup(
                element(seg, 1), element(seg, 2), element(seg, 3), element(seg, 6), element(seg, 8)
            )
            self.isa.groups.append(self.gs)
            self.st_count = 0
        elif tag == "ST":
            if self.gs is None:
                raise X12Error("UNEXPECTED_SEGMENT", "ST outside a functional group")
            self.st02 = element(seg, 2)
            self.st_segments = 1
            self.st_count += 1
            self.gs.transaction_set_ids.append(self.st02)
        elif tag == "SE":
            if self.st02 is None:
                raise X12Error("UNEXPECTED_SEGMENT", "SE without ST")
            se01, se02 = element(seg, 1), element(seg, 2)
            if not digits(se01) or int(se01) != self.st_segments:
                raise X12Error(
                    "SE_COUNT_MISMATCH", f"SE01={se01} but transaction set {self.st02} has {self.st_segments} segments"
                )
            if not same_number(se02, self.st02):
                raise X12Error("SE_CONTROL_MISMATCH", f"SE02={se02} does not match ST02={self.st02}")
            self.st02 = None
        elif tag == "GE":
            if self.gs is None:
                raise X12Error("UNEXPECTED_SEGMENT", "GE without GS")
            ge01, ge02 = element(seg, 1), element(seg, 2)
            if not digits(ge01) or int(ge01) != self.st_count:
                raise X12Error(
                    "GE_COUNT_MISMATCH", f"GE01={ge01} but group {self.gs.control_number} has {self.st_count} sets"
                )
            if not same_number(ge02, self.gs.control_number):
                raise X12Error("GE_CONTROL_MISMATCH", f"GE02={ge02} does not match GS06={self.gs.control_number}")
            self.gs = None
        elif tag == "IEA":
            if self.isa is None or self.gs is not None:
                raise X12Error(
                    "TRUNCATED" if self.gs is not None else "UNEXPECTED_SEGMENT",
                    "IEA before GE" if self.gs is not None else "IEA without ISA",
                )
            iea01, iea02 = element(seg, 1), element(seg, 2)
            if not digits(iea01) or int(iea01) != len(self.isa.groups):
                raise X12Error(
                    "IEA_COUNT_MISMATCH",
                    f"IEA01={iea01} but interchange {self.isa.control_number} has {len(self.isa.groups)} groups",
                )
            if not same_number(iea02, self.isa.control_number):
                raise X12Error("IEA_CONTROL_MISMATCH", f"IEA02={iea02} does not match ISA13={self.isa.control_number}")
            self.isa = None
        else:
            raise X12Error("UNEXPECTED_SEGMENT", f"{tag[:3]!r} segment outside a transaction set")

    def _isa(self, seg: list[str]) -> None:
        if self.isa is not None:
            raise X12Error("TRUNCATED", f"interchange {self.isa.control_number} has no IEA before the next ISA")
        delim = self.reader.delimiters
        assert delim is not None
        self.isa = Interchange.from_isa(seg, delim)
        self.reader.interchanges.append(self.isa)

    def finish(self) -> None:
        if self.st02 is not None:
            raise X12Error("TRUNCATED", f"file ends inside transaction set {self.st02}")
        if self.gs is not None:
            raise X12Error("TRUNCATED", f"file ends inside functional group {self.gs.control_number}")
        if self.isa is not None:
            raise X12Error("TRUNCATED", f"file ends inside interchange {self.isa.control_number}")


def element(seg: list[str], index: int) -> str:
    """Element ``index`` of a segment (``seg[0]`` is its id); empty when the segment stops before it."""
    return seg[index] if len(seg) > index else ""
