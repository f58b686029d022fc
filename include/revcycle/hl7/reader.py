"""A fast HL7 v2 reader: files to messages to segments and fields, with each message's own delimiters.

- Segment endings CR, LF and CRLF are all accepted (hl7apy keeps only MSH when
  lines end in CRLF, so nothing here depends on it); blank lines between
  messages and FHS/BHS/BTS/FTS batch envelopes are skipped.
- Every message carries its delimiters: MSH-1 is the field separator, MSH-2
  the component, repetition, escape and subcomponent characters (a fifth,
  ``#``, is the 2.7+ truncation character; a doubled escape character, as some
  senders write it, is read as one).  Encoding characters that repeat,
  are alphanumeric, or are missing make the message unreadable
  (``BAD_ENCODING_CHARACTERS``).
- MSH-18 selects the character set: ASCII, 8859/1..15, UNICODE
  UTF-8; when empty, bytes above 127 are read as Latin-1 rather than refused.  The file is read as Latin-1 (byte-transparent) and a UTF-8 message
  is re-decoded from its own bytes, so one file may mix both.
- Escape sequences (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\, \\Xhh\\, formatting) are decoded only when a
  value is read (``Message.value``).

Errors raised for one message never stop the others: ``read_messages`` yields
a ``Message`` or a ``BrokenMessage`` (with reason and position) per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from revcycle.errors import RevcycleError

BATCH_SEGMENTS = ("FHS", "BHS", "BTS", "FTS")
_CHARSETS = {"": "latin-1", "ASCII": "ascii", "UNICODE UTF-8": "utf-8", "UTF-8": "utf-8"}
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")


@dataclass(frozen=True)
class Encoding:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


class HL7Error(RevcycleError):
    """A message that cannot be read or mapped: its reason, and where (for the ACK's ERR segment)."""

    def __init__(self, reason: str, detail: str, location: str = "", code: str = "207") -> None:
        super().__init__(reason, detail)
        self.location = location  # ERR-2 style: SEG^seq^field
        self.code = code  # HL7 table 0357 error condition


@dataclass
class Message:
    seq: int  # position in the file, from 1
    encoding: Encoding
    segments: list[list[str]]  # per segment: [segment id, field 1, field 2, ...] (MSH-1 is the separator)
    charset: str = "ascii"
    # No repetition, subcomponent or escape character past MSH-2: every field is its components, as written.
    plain: bool = False

    # Read once from MSH when the message is built: MSH-10 as written, MSH-9's type and event, MSH-12's first
    # component.
    control_id: str = ""
    message_type: tuple[str, str] = ("", "")
    version: str = ""

    # -- header ------------------------------------------------------------------
    @property
    def msh(self) -> list[str]:
        return self.segments[0]

    # -- values ------------------------------------------------------------------
    def value(self, raw: str, component: int = 1, subcomponent: int = 1, repetition: int = 1) -> str:
        """One leaf of a field (1-based component/subcomponent/repetition), escape sequences decoded."""
        e = self.encoding
        if component == 1 and subcomponent == 1 and repetition == 1:
            # The first leaf, the common case (bench stage 3): cut at each separator in turn, as the
            # splits below would, without building the lists.
            for sep in (e.repetition, e.component, e.subcomponent):
                cut = raw.find(sep)
                if cut >= 0:
                    raw = raw[:cut]
            return unescape(raw, e) if e.escape and e.escape in raw else raw
        reps = raw.split(e.repetition)
        if repetition > len(reps):
            return ""
        comps = reps[repetition - 1].split(e.component)
        if component > len(comps):
            return ""
        subs = comps[component - 1].split(e.subcomponent)
        if subcomponent > len(subs):
            return ""
        return unescape(subs[subcomponent - 1], e)

    def leaves(self, seg: list[str], width: int) -> list[str]:
        """The first leaf of each field of a segment (``value(seg[n])`` for every n), '' up to ``width``."""
        if self.plain:  # the common case: cut each field at its first component separator, in one pass
            comp = self.encoding.component
            out = [f.split(comp, 1)[0] if comp in f else f for f in seg]
        else:
            out = [self.value(f) for f in seg]
        if len(out) < width:
            out += [""] * (width - len(out))
        return out

    def leaf(self, seg: list[str], n: int) -> str:
        """The first leaf of field ``n`` of a segment (``value(seg[n])``), '' past its end."""
        if n >= len(seg):
            return ""
        return seg[n].split(self.encoding.component, 1)[0] if self.plain else self.value(seg[n])

    def components(self, raw: str, width: int) -> list[str]:
        """The first leaf of each component of a field (``value(raw, c)`` for c = 1..), '' up to ``width``."""
        out = raw.split(self.encoding.component) if self.plain else [self.value(raw, c) for c in range(1, width + 1)]
        if len(out) < width:
            out += [""] * (width - len(out))
        return out

    def segments_named(self, name: str) -> list[list[str]]:
        return [s for s in self.segments if s[0] == name]


@dataclass
class BrokenMessage:
    seq: int
    reason: str
    detail: str
    control_id: str = ""
    message_type: tuple[str, str] = ("", "")
    version: str = ""
    encoding: Encoding = field(default_factory=Encoding)
    code: str = "207"
    text: str = ""  # the message as received (for the quarantine folder only)


def _el(seg: list[str], i: int) -> str:
    return seg[i] if len(seg) > i else ""


def unescape(text: str, e: Encoding) -> str:
    if e.escape not in text or not e.escape:
        return text
    out, i, esc = [], 0, e.escape
    while i < len(text):
        ch = text[i]
        if ch != esc:
            out.append(ch)
            i += 1
            continue
        end = text.find(esc, i + 1)
        if end < 0:
            out.append(text[i:])
            break
        code = text[i + 1 : end]
        i = end + 1
        if code == "F":
            out.append(e.field)
        elif code == "S":
            out.append(e.component)
        elif code == "T":
            out.append(e.subcomponent)
        elif code == "R":
            out.append(e.repetition)
        elif code == "E":
            out.append(esc)
        elif code.startswith("X") and len(code) % 2 == 1:
            try:
                out.append(bytes.fromhex(code[1:]).decode("latin-1"))
            except ValueError:
                pass
        elif code in (".br", ".sp"):
            out.append(" ")
        # .in, .ti, .sk, .ce, H, N, C.., M.. : formatting or charset switches - dropped
    return "".join(out)


def _split_segments(text: str) -> list[str]:
    # CRLF first, then lone CR or LF (as ``re.split(r"\r\n|\r|\n")`` would, in C); a literal backslash-r typed
    # at a line end (seen in the wild) is trimmed.
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    if "\\r" not in text:
        return lines
    return [ln[:-2] if ln.endswith("\\r") and not ln.endswith("\\\\r") else ln for ln in lines]


def _encoding(msh_line: str) -> Encoding:
    if len(msh_line) < 8:
        raise HL7Error("BAD_ENCODING_CHARACTERS", "MSH is too short to hold MSH-1 and MSH-2", "MSH^1^2", "102")
    sep = msh_line[3]
    return _declared_encoding(sep, msh_line[4:].split(sep, 1)[0])


@lru_cache(maxsize=64)
def _declared_encoding(sep: str, enc: str) -> Encoding:
    """The Encoding of MSH-1 and MSH-2 (a file repeats one pair: judged once; a refusal is not cached)."""
    if len(enc) == 5 and enc[4] == "#":
        enc = enc[:4]  # 2.7+ truncation character
    elif len(enc) == 5 and enc[2] == enc[3] == "\\":
        enc = enc[:3] + enc[4]  # a sender that escaped its own escape character (``^~\\\\&``)
    if (
        sep.isalnum()
        or sep in " \r\n"
        or len(enc) != 4
        or len(set(enc + sep)) != 5
        or any(c.isalnum() or c.isspace() for c in enc)
    ):
        raise HL7Error(
            "BAD_ENCODING_CHARACTERS",
            f"MSH-2 has {len(enc)} encoding characters, not 4 distinct non-alphanumeric ones",
            "MSH^1^2",
            "102",
        )
    return Encoding(sep, enc[0], enc[1], enc[2], enc[3])


@lru_cache(maxsize=64)
def _charset(msh18: str) -> str:
    name = msh18.strip().upper().split("~")[0]
    if name in _CHARSETS:
        return _CHARSETS[name]
    m = re.fullmatch(r"8859/(\d{1,2})", name)
    if m:
        return f"iso8859-{m.group(1)}"
    raise HL7Error(
        "UNSUPPORTED_CHARSET", "MSH-18 names a character set this reader does not support", "MSH^1^18", "103"
    )


def _chunks(text: str) -> Iterator[list[str]]:
    """Group segment lines into messages: a new MSH starts one; batch envelopes and blank lines are dropped."""
    current: list[str] = []
    for line in _split_segments(text):
        stripped = line.strip()
        if not stripped:
            continue
        head = stripped[:3]
        if head in BATCH_SEGMENTS:
            continue
        if head == "MSH":
            if current:
                yield current
            current = [stripped]
        else:
            current.append(line.rstrip())
    if current:
        yield current


def read_text(text: str) -> Iterator[Message | BrokenMessage]:
    """Messages of an HL7 text (already decoded as Latin-1 or the file's single charset)."""
    for seq, lines in enumerate(_chunks(text), start=1):
        yield _message(seq, lines)


def read_messages(path: Path) -> Iterator[Message | BrokenMessage]:
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    yield from read_text(data.decode("latin-1"))


def _message(seq: int, lines: list[str]) -> Message | BrokenMessage:
    if not lines[0].startswith("MSH"):
        return BrokenMessage(seq, "NO_MSH", "segments found before any MSH header", code="100", text="\r".join(lines))
    try:
        enc = _encoding(lines[0])
    except HL7Error as exc:
        return BrokenMessage(seq, exc.reason, exc.detail, code=exc.code, text="\r".join(lines))
    msh = lines[0].split(enc.field)
    msh.insert(1, enc.field)  # MSH-1 is the separator itself: fields keep their numbers
    control = _el(msh, 10)
    mtype = tuple((_el(msh, 9).split(enc.component) + ["", ""])[:2])
    version = _el(msh, 12).split(enc.component)[0]
    try:
        charset = _charset(_el(msh, 18))
        if charset != "latin-1":
            lines = "\r".join(lines).encode("latin-1").decode(charset).split("\r")
    except HL7Error as exc:
        return BrokenMessage(seq, exc.reason, exc.detail, control, mtype, version, enc, exc.code, "\r".join(lines))
    except (UnicodeDecodeError, UnicodeEncodeError, LookupError):
        return BrokenMessage(
            seq,
            "BAD_CHARACTERS",
            f"bytes outside the MSH-18 character set ({charset})",
            control,
            mtype,
            version,
            enc,
            "102",
            "\r".join(lines),
        )
    sep = enc.field
    body = [line.split(sep) for line in lines[1:]]
    if not _VALID_IDS.issuperset([fields[0] for fields in body]):  # a segment id not seen before in the run
        for n, fields in enumerate(body, start=2):
            if fields[0] in _VALID_IDS:
                continue
            if not _SEGMENT_ID.match(fields[0]):
                return BrokenMessage(
                    seq,
                    "BAD_SEGMENT",
                    f"segment {n} has no valid segment id",
                    control,
                    mtype,
                    version,
                    enc,
                    "100",
                    "\r".join(lines),
                )
            _VALID_IDS.add(fields[0])
    # Past MSH-1 and MSH-2, which hold the encoding characters themselves.
    tail = "\r".join([lines[0][4 + len(msh[2]) :], *lines[1:]])
    plain = enc.repetition not in tail and enc.subcomponent not in tail and enc.escape not in tail
    segments = [msh, *body]
    return Message(seq, enc, segments, charset, plain, control, mtype, version)


_VALID_IDS: set[str] = set()  # segment ids already matched by _SEGMENT_ID (a file repeats a handful)
