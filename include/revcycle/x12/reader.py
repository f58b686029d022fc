"""Streaming X12 reader with envelope control checks.

Delimiters come from each ISA (DOMAIN.md: never assume ``*``, ``:`` or ``~``);
several interchanges may follow one another in one file, each with its own
delimiters.  The file is read in fixed-size chunks, so memory stays flat in
file size.  Segments come out as lists of element strings (``seg[0]`` is the
segment id); envelope segments are checked as they pass:

    SE01 = segments in the set including ST and SE;  SE02 = ST02
    GE01 = number of ST sets;                        GE02 = GS06
    IEA01 = number of GS groups;                     IEA02 = ISA13

Tolerated, because real files carry them: a UTF-8 BOM, CR/LF after
terminators, leading blanks before segments, a missing final terminator, and
a newline ISA terminator with the real terminator written at the start of the
following lines (a 4010 quirk seen in the wild).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

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
    groups: list["FunctionalGroup"] = field(default_factory=list)


@dataclass
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    control_number: str
    version: str
    transaction_set_ids: list[str] = field(default_factory=list)


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a == b


def parse_isa(isa: str) -> tuple[list[str], Delimiters]:
    """Split a 106-character ISA and return its elements and delimiters."""
    if len(isa) < ISA_LENGTH or not isa.startswith("ISA"):
        raise X12Error("ISA_SYNTAX", f"interchange header is {len(isa)} characters, expected {ISA_LENGTH}")
    element = isa[3]
    if element.isalnum() or element in _WHITESPACE:
        raise X12Error("ISA_SYNTAX", f"element separator {element!r} is not a delimiter character")
    if isa[ISA_LENGTH - 3] != element or isa[:ISA_LENGTH - 2].count(element) != 16:
        raise X12Error("ISA_SYNTAX", "ISA elements are not at their fixed positions (ISA must be 106 characters)")
    if element in (isa[ISA_LENGTH - 2], isa[ISA_LENGTH - 1]):
        raise X12Error("DELIMITER_COLLISION", "ISA declares the element separator again as component or segment separator")
    fields = isa[:ISA_LENGTH - 1].split(element)
    if len(fields) != 17:
        raise X12Error("ISA_SYNTAX", f"ISA has {len(fields) - 1} elements, expected 16")
    component = isa[ISA_LENGTH - 2]
    segment = isa[ISA_LENGTH - 1]
    version = fields[12]
    repetition = fields[11] if version >= "00501" and not fields[11].isalnum() else None
    delimiters = Delimiters(element, component, repetition, segment)
    used = [d for d in (element, component, repetition, segment) if d is not None]
    if len(set(used)) != len(used):
        raise X12Error("DELIMITER_COLLISION",
                       f"ISA declares the same character for two delimiters: {used!r}")
    if component.isalnum():
        raise X12Error("ISA_SYNTAX", f"component separator {component!r} is not a delimiter character")
    if not fields[13].strip().isdigit():
        raise X12Error("ISA_SYNTAX", "ISA13 interchange control number is not numeric")
    return fields, delimiters


def _decoded_chunks(stream: BinaryIO, size: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    while True:
        data = stream.read(size)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise X12Error("NOT_UTF8", f"undecodable byte at offset {offset + exc.start}") from None
        offset += len(data)
        if text:
            yield text
        if not data:
            return


class X12Reader:
    """Iterate the segments of every interchange of one file, checking envelopes.

    ``reader.interchanges`` fills as the file is read;
    ``reader.delimiters`` is the current interchange's delimiters (mappers use
    its component separator).
    """

    def __init__(self, stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.interchanges: list[Interchange] = []
        self.delimiters: Delimiters | None = None
        self.segment_count = 0

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
        buf = ""
        eof = False
        seen_any = False

        def more() -> bool:
            nonlocal buf, eof
            if eof:
                return False
            try:
                buf += next(chunks)
                return True
            except StopIteration:
                eof = True
                return False

        while True:
            # Expect an ISA: skip BOM and blanks, then read its fixed 106 characters.
            while True:
                stripped = buf.lstrip(_WHITESPACE)
                if len(stripped) >= ISA_LENGTH + 2 or (eof and stripped):
                    break
                if not more():
                    stripped = buf.lstrip(_WHITESPACE)
                    break
            buf = stripped
            if not buf:
                if not seen_any:
                    raise X12Error("EMPTY_FILE", "file holds no interchange")
                return
            if not buf.startswith("ISA"):
                if seen_any:
                    raise X12Error("UNEXPECTED_SEGMENT", "data after IEA is not an ISA")
                raise X12Error("ISA_SYNTAX", "file does not start with an ISA segment")
            fields, delim = parse_isa(buf[:ISA_LENGTH])
            rest = buf[ISA_LENGTH:]
            if delim.segment in "\r\n":
                # Newline-terminated ISA; if the next line starts with a
                # punctuation character, that character is the real terminator.
                nxt = rest.lstrip("\r\n")
                if nxt and not nxt[0].isalnum() and nxt[0] not in _WHITESPACE and nxt[0] != delim.element:
                    delim = Delimiters(delim.element, delim.component, delim.repetition, nxt[0])
                    rest = nxt[1:]
            self.delimiters = delim
            seen_any = True
            yield fields
            buf = rest
            term, elem = delim.segment, delim.element
            in_interchange = True
            while in_interchange:
                pieces = buf.split(term)
                tail = pieces.pop()
                for i, piece in enumerate(pieces):
                    text = piece.strip(_WHITESPACE)
                    if not text:
                        continue
                    seg = text.split(elem)
                    yield seg
                    if seg[0] == "IEA":
                        buf = term.join(pieces[i + 1:] + [tail])
                        in_interchange = False
                        break
                else:
                    buf = tail
                    if not more():
                        text = buf.strip(_WHITESPACE)
                        buf = ""
                        if text:
                            # Last segment without a terminator.
                            seg = text.split(elem)
                            yield seg
                            if seg[0] == "IEA":
                                in_interchange = False
                                break
                        return


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
            self.gs = FunctionalGroup(_el(seg, 1), _el(seg, 2), _el(seg, 3), _el(seg, 6), _el(seg, 8))
            self.isa.groups.append(self.gs)
            self.st_count = 0
        elif tag == "ST":
            if self.gs is None:
                raise X12Error("UNEXPECTED_SEGMENT", "ST outside a functional group")
            self.st02 = _el(seg, 2)
            self.st_segments = 1
            self.st_count += 1
            self.gs.transaction_set_ids.append(self.st02)
        elif tag == "SE":
            if self.st02 is None:
                raise X12Error("UNEXPECTED_SEGMENT", "SE without ST")
            se01, se02 = _el(seg, 1), _el(seg, 2)
            if not se01.isdigit() or int(se01) != self.st_segments:
                raise X12Error("SE_COUNT_MISMATCH",
                               f"SE01={se01} but transaction set {self.st02} has {self.st_segments} segments")
            if not _same_number(se02, self.st02):
                raise X12Error("SE_CONTROL_MISMATCH", f"SE02={se02} does not match ST02={self.st02}")
            self.st02 = None
        elif tag == "GE":
            if self.gs is None:
                raise X12Error("UNEXPECTED_SEGMENT", "GE without GS")
            ge01, ge02 = _el(seg, 1), _el(seg, 2)
            if not ge01.isdigit() or int(ge01) != self.st_count:
                raise X12Error("GE_COUNT_MISMATCH", f"GE01={ge01} but group {self.gs.control_number} has {self.st_count} sets")
            if not _same_number(ge02, self.gs.control_number):
                raise X12Error("GE_CONTROL_MISMATCH", f"GE02={ge02} does not match GS06={self.gs.control_number}")
            self.gs = None
        elif tag == "IEA":
            if self.isa is None or self.gs is not None:
                raise X12Error("TRUNCATED" if self.gs is not None else "UNEXPECTED_SEGMENT",
                               "IEA before GE" if self.gs is not None else "IEA without ISA")
            iea01, iea02 = _el(seg, 1), _el(seg, 2)
            if not iea01.isdigit() or int(iea01) != len(self.isa.groups):
                raise X12Error("IEA_COUNT_MISMATCH",
                               f"IEA01={iea01} but interchange {self.isa.control_number} has {len(self.isa.groups)} groups")
            if not _same_number(iea02, self.isa.control_number):
                raise X12Error("IEA_CONTROL_MISMATCH",
                               f"IEA02={iea02} does not match ISA13={self.isa.control_number}")
            self.isa = None
        else:
            raise X12Error("UNEXPECTED_SEGMENT", f"{tag[:3]!r} segment outside a transaction set")

    def _isa(self, seg: list[str]) -> None:
        if self.isa is not None:
            raise X12Error("TRUNCATED", f"interchange {self.isa.control_number} has no IEA before the next ISA")
        delim = self.reader.delimiters
        assert delim is not None
        self.isa = Interchange(
            sender_qualifier=seg[5].strip(), sender_id=seg[6].strip(), receiver_id=seg[8].strip(),
            control_number=seg[13].strip(), version=seg[12].strip(), usage=seg[15].strip(),
            date=seg[9].strip(), time=seg[10].strip(), delimiters=delim,
        )
        self.reader.interchanges.append(self.isa)

    def finish(self) -> None:
        if self.st02 is not None:
            raise X12Error("TRUNCATED", f"file ends inside transaction set {self.st02}")
        if self.gs is not None:
            raise X12Error("TRUNCATED", f"file ends inside functional group {self.gs.control_number}")
        if self.isa is not None:
            raise X12Error("TRUNCATED", f"file ends inside interchange {self.isa.control_number}")


def _el(seg: list[str], index: int) -> str:
    return seg[index] if len(seg) > index else ""
