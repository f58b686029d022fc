"""Files a first run creates once and every later process shares: the PHI-token key, the cluster's generated
secrets and passwords.

Several processes may arrive at an empty home together (the DAGs of a wave parse side by side, Celery workers
start at once). Each writes its own candidate to a private temporary file beside the target, flushes it to
disk, and then hard-links it to the target's name. link(2) fails when the name exists already, so exactly
one candidate wins, and every process, the losers included, then reads the winner's bytes. The target's name
only ever points at a complete file.

``O_CREAT | O_EXCL`` followed by a write cannot promise that: the name exists, empty, until the writer has
written, and a reader in between takes an empty secret for the real one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from revcycle.errors import RevcycleError

SECRET_DIR = 0o700
SECRET_FILE = 0o600


def create_once(path: Path, make: Callable[[], bytes], check: Callable[[bytes], str | None]) -> bytes:
    """The bytes of ``path``, created from ``make()`` by whichever process comes first (mode 0600, its folder
    0700 when this creates it).  ``check`` says what is wrong with a file's bytes (None: nothing); a file it
    refuses raises ``BAD_SECRET``, so a truncated or emptied secret is never used in place of the real one."""
    data = _read(path)
    if data is None:
        path.parent.mkdir(mode=SECRET_DIR, parents=True, exist_ok=True)
        candidate = make()
        if problem := check(candidate):  # a programming error, not a bad file
            raise ValueError(f"the new {path.name} is refused by its own check: {problem}")
        tmp = _written_beside(path, candidate)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process linked its candidate first: everyone uses that one
        finally:
            os.unlink(tmp)
        data = _read(path)
        if data is None:
            raise RevcycleError("BAD_SECRET", f"{path} vanished right after it was created")
    if problem := check(data):
        raise RevcycleError(
            "BAD_SECRET",
            f"{path} is unusable ({problem}); it was not written by revcycle or was cut short. "
            "Restore it from backup, or remove it only if nothing made with it must still match",
        )
    return data


def write_private_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` as a whole, readable by the owner only from its first byte (a file
    written and then chmod-ed is readable by others in between)."""
    path.parent.mkdir(mode=SECRET_DIR, parents=True, exist_ok=True)
    tmp = _written_beside(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _written_beside(path: Path, data: bytes) -> str:
    """A private (0600) temporary file beside ``path`` holding ``data``, on disk; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
