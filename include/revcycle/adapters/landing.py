"""Landing: copy new inbound files into the immutable raw zone and record them in the ledger.

One landing path for every source and transport: a local folder (embedded
default) or an SFTP server (production).  A file is landed only when its size
and mtime are unchanged across ``stable_seconds``; it is streamed to a temp
name while hashed, fsynced, checked against the listed size, and atomically
renamed to a content-addressed name ``raw/<source>/<sha[:2]>/<sha256>``.
Dangerous names (path separators, ``..``, NUL, absurd length) are refused.
"""

from __future__ import annotations

import datetime as dt
import errno
import fnmatch
import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from revcycle.adapters import ledger
from revcycle.adapters.objectstore import store_for
from revcycle.errors import LandingError

log = logging.getLogger(__name__)
MAX_NAME = 255


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: float


class Transport(Protocol):
    def list(self) -> list[RemoteFile]: ...
    def fetch(self, name: str, out: BinaryIO) -> None: ...
    def describe(self) -> str: ...


def check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME:
        raise LandingError("BAD_FILENAME", f"name length {len(name)} outside 1..{MAX_NAME}")
    if "\x00" in name or "/" in name or "\\" in name:
        raise LandingError("BAD_FILENAME", "name contains a path separator or NUL")
    if name in (".", "..") or ".." in name:
        raise LandingError("BAD_FILENAME", "name contains '..'")
    if any(ord(ch) < 32 for ch in name):
        raise LandingError("BAD_FILENAME", "name contains a control character")


class LocalFolder:
    """A local inbound folder (the embedded default), read through the same landing code.

    Only regular files are read, and never through a link: a symlink, FIFO, socket or device in the
    folder is refused (``refused``, recorded in the ledger by ``land_source``), and ``fetch`` opens with
    O_NOFOLLOW | O_NONBLOCK and checks what it opened, so an entry swapped for a link or a FIFO between
    list and fetch is refused too (never followed, never blocked on).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.refused: list[tuple[str, str, str]] = []  # (name, reason, detail) seen by the last list()

    def list(self) -> list[RemoteFile]:
        self.refused = []
        if not self.root.is_dir():
            return []
        out = []
        for entry in os.scandir(self.root):
            if entry.is_dir(follow_symlinks=False):
                continue  # sub-folders are not inbound files
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                self.refused.append((entry.name, "NOT_A_REGULAR_FILE", _kind(st.st_mode)))
                continue
            out.append(RemoteFile(entry.name, st.st_size, st.st_mtime))
        return sorted(out, key=lambda f: f.name)

    def fetch(self, name: str, out: BinaryIO) -> None:
        check_name(name)
        try:
            fd = os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the entry became a symlink after it was listed
                raise LandingError("NOT_A_REGULAR_FILE", "a symbolic link, never followed") from None
            raise
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise LandingError("NOT_A_REGULAR_FILE", _kind(mode))
            os.set_blocking(fh.fileno(), True)
            while block := fh.read(1 << 20):
                out.write(block)

    def describe(self) -> str:
        return f"file://{self.root}"


def _kind(mode: int) -> str:
    for test, what in (
        (stat.S_ISLNK, "a symbolic link, never followed"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def stable_files(transport: Transport, stable_seconds: float, patterns: Iterable[str]) -> list[RemoteFile]:
    """Files matching ``patterns`` whose size and mtime did not move across the interval."""
    pats = tuple(patterns)
    first = {f.name: f for f in transport.list() if any(fnmatch.fnmatch(f.name, p) for p in pats)}
    if stable_seconds > 0 and first:
        time.sleep(stable_seconds)
        second = {f.name: f for f in transport.list()}
        return [f for n, f in sorted(first.items()) if n in second and second[n] == f]
    return [first[n] for n in sorted(first)]


def land_file(transport: Transport, remote: RemoteFile, raw_root: Path | str) -> tuple[str, str]:
    """Download one file into the raw zone (a local folder or an object-store URL) under
    ``<sha[:2]>/<sha256>``, created once and read-only; return its sha256 and where it lives."""
    check_name(remote.name)
    store = store_for(raw_root)
    tmp = store.scratch_file()
    try:
        digest = hashlib.sha256()
        with open(tmp, "wb") as fh:
            writer = _HashingWriter(fh, digest)
            transport.fetch(remote.name, writer)
            fh.flush()
            os.fsync(fh.fileno())
        if writer.size != remote.size:
            raise LandingError("SIZE_MISMATCH", f"listed {remote.size} bytes, received {writer.size}")
        sha = digest.hexdigest()
        key = f"{sha[:2]}/{sha}"
        store.create_file(key, tmp)  # the same bytes landed before: nothing to do
        return sha, store.location(key)
    finally:
        tmp.unlink(missing_ok=True)


class _HashingWriter:
    def __init__(self, fh: BinaryIO | None, digest: hashlib._Hash) -> None:
        self.fh, self.digest, self.size = fh, digest, 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.fh.write(data) if self.fh else len(data)


def fingerprint(transport: Transport, name: str) -> str:
    """The sha256 of an inbound file's bytes, read through the transport and kept nowhere."""
    digest = hashlib.sha256()
    transport.fetch(name, _HashingWriter(None, digest))
    return digest.hexdigest()


@dataclass
class LandingResult:
    landed: list[str]
    skipped: int
    refused: list[dict]


def land_source(
    source: str,
    transport: Transport,
    raw_zone: Path | str,
    patterns: Iterable[str],
    business_date: dt.date,
    stable_seconds: float,
    dag_run_id: str | None,
) -> LandingResult:
    """Land every new stable file of one source; already-known bytes are skipped by sha256."""
    landed, refused, skipped = [], [], 0

    def refuse(name: str, reason: str, detail: str) -> None:
        log.warning("refused inbound entry from %s: %s", transport.describe(), reason)
        refused.append({"reason": reason, "detail": detail})
        ledger.record_refused(
            source=source,
            original_name=name,
            reason=reason,
            detail=detail,
            business_date=business_date,
            dag_run_id=dag_run_id,
        )

    pats = tuple(patterns)
    for remote in stable_files(transport, stable_seconds, patterns):
        try:
            sha, path = land_file(transport, remote, f"{str(raw_zone).rstrip('/')}/{source}")
        except LandingError as exc:
            refuse(remote.name, exc.reason, exc.detail)
            continue
        if ledger.record_landed(
            sha256=sha,
            source=source,
            original_name=remote.name,
            size_bytes=remote.size,
            raw_path=str(path),
            business_date=business_date,
            dag_run_id=dag_run_id,
        ):
            landed.append(sha)
        else:
            skipped += 1
    for name, reason, detail in getattr(transport, "refused", []):
        if any(fnmatch.fnmatch(name, p) for p in pats):
            refuse(name, reason, detail)
    return LandingResult(landed, skipped, refused)


class MemoryFolder:
    """Files already in hand (a partner's real-time answer) as a landing transport, so they land exactly as a
    listed file would: raw zone by sha256, ledger row, the same steps after."""

    def __init__(self, files: dict[str, bytes], origin: str) -> None:
        self.files, self.origin = files, origin

    def list(self) -> list[RemoteFile]:
        return [RemoteFile(name, len(data), 0.0) for name, data in sorted(self.files.items())]

    def fetch(self, name: str, out: BinaryIO) -> None:
        check_name(name)
        out.write(self.files[name])

    def describe(self) -> str:
        return self.origin
