"""Objects under one root - a local folder or ``s3://bucket/prefix`` - through fsspec, with the two
guarantees the pipeline needs from any store:

- **Immutable create** (raw zone, acknowledgements sent): ``create`` writes a key only if it does not exist
  (S3 ``If-None-Match: *``, a conditional put; locally a hard link of a finished temp file, which fails if
  the name exists).  The same bytes again are a no-op; other bytes under the key are refused.
- **Whole objects** (lake datasets, reports): ``put`` and ``copy_in`` replace one object whole, so a
  reader sees the old bytes or the new, never part; ``revcycle.adapters.lake`` builds its atomic publish
  (objects, then a manifest) on them.

Credentials for S3 come from an Airflow connection (``conn_id``: login = access key, password = secret key,
extra ``endpoint_url`` and ``region_name``), never from code.  The raw zone lands through it (a local
folder, or ``REVCYCLE_RAW_ZONE_URL``); the lake, quarantine and reports are still local folders.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec

from revcycle.adapters.storage import private_dir, sha256_file, sha256_stream, write_atomic
from revcycle.errors import RevcycleError


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ObjectConflict(RevcycleError):
    """An immutable key already holds other bytes."""


def _s3_options(conn_id: str) -> dict[str, Any]:
    from airflow.sdk import BaseHook  # only when a connection id is configured

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    client = {k: extra[k] for k in ("endpoint_url", "region_name") if extra.get(k)}
    return {"key": conn.login, "secret": conn.password, "client_kwargs": client}


class ObjectStore:
    def __init__(self, root: str, fs: fsspec.AbstractFileSystem | None = None, **options: Any) -> None:
        self.root = root.rstrip("/")
        self.protocol = root.split("://", 1)[0] if "://" in root else "file"
        self.fs = fs or fsspec.filesystem(self.protocol, **options)

    @classmethod
    def from_url(cls, root: str, conn_id: str = "") -> ObjectStore:
        options = _s3_options(conn_id) if conn_id and root.startswith("s3://") else {}
        return cls(root, **options)

    def path(self, key: str) -> str:
        if ".." in key.split("/") or key.startswith("/"):
            raise ValueError(f"object key {key!r} leaves the store's root")
        root = self.root.split("://", 1)[1] if "://" in self.root else self.root
        return f"{root}/{key}"

    # -- immutable create --------------------------------------------------------------------------------
    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` once: True if written now, False if it held these bytes already; ``ObjectConflict``
        if it holds other bytes.  Two writers racing for one key: exactly one writes."""
        scratch = self.scratch_file()
        try:
            scratch.write_bytes(data)
            return self.create_file(key, scratch)
        finally:
            scratch.unlink(missing_ok=True)

    def child(self, prefix: str) -> ObjectStore:
        """The same store rooted one folder (key prefix) deeper."""
        return ObjectStore(f"{self.root}/{prefix.strip('/')}", fs=self.fs)

    def location(self, key: str) -> str:
        """Where a key lives, as the ledger records it: a local path, or the object's URL."""
        return self.path(key) if self.protocol == "file" else f"{self.protocol}://{self.path(key)}"

    def scratch_file(self) -> Path:
        """A temporary local file to assemble an object in: beside the objects for a local store (so
        ``create_file`` links it in place), in the system's temporary folder otherwise."""
        folder = private_dir(Path(self.path(""))) if self.protocol == "file" else None
        fd, name = tempfile.mkstemp(prefix=".landing-", dir=folder)
        os.close(fd)
        return Path(name)

    def create_file(self, key: str, local: Path) -> bool:
        """``create`` from a finished local file (a large file is never held in memory).  Locally the file
        becomes read-only and is linked in place (the caller removes its scratch name); on S3 it is put with
        If-None-Match.  True if created now, False if the key held the same bytes; else ``ObjectConflict``."""
        path = self.path(key)
        try:
            if self.protocol == "file":
                private_dir(Path(path).parent)
                os.chmod(local, stat.S_IRUSR | stat.S_IRGRP)
                os.link(local, path)
                _fsync_dir(Path(path).parent)
            else:
                self.fs.put_file(str(local), path, mode="create")
        except (FileExistsError, OSError) as exc:
            if not self.fs.exists(path):
                raise
            with self.fs.open(path, "rb") as there, open(local, "rb") as here:
                if sha256_stream(there) != sha256_stream(here):
                    raise ObjectConflict("OBJECT_EXISTS", f"{key} already holds other bytes") from exc
            return False
        return True

    def read(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))

    # -- whole objects (replaceable) -------------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        """Write or replace one object whole: a reader sees the old bytes or the new, never part (a local
        temp name and rename; one PUT on S3)."""
        if self.protocol == "file":
            write_atomic(Path(self.path(key)), data)
        else:
            self.fs.pipe_file(self.path(key), data)

    def copy_in(self, source_key: str, key: str) -> int:
        """Copy one object to another key whole (server-side on S3); return its size."""
        src, dest = self.path(source_key), self.path(key)
        if self.protocol == "file":
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(dest).with_name(f".{Path(dest).name}.publishing")
            shutil.copyfile(src, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
            return os.path.getsize(dest)
        self.fs.copy(src, dest)
        return int(self.fs.info(dest)["size"])

    def remove(self, key: str) -> None:
        path = self.path(key)
        if self.fs.exists(path):
            self.fs.rm_file(path)

    def remove_tree(self, prefix: str) -> None:
        path = self.path(prefix.rstrip("/"))
        if self.protocol == "file":
            shutil.rmtree(path, ignore_errors=True)
        elif self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted."""
        base = self.path(prefix.rstrip("/"))
        if not self.fs.exists(base):
            return []
        start, found = len(self.path("")), self.fs.find(base, detail=True)
        # A folder marker (SeaweedFS keeps emptied folders) is not a key.
        return sorted(p[start:] for p, info in found.items() if info["type"] == "file" and p != base)

    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def sha256(self, key: str) -> str | None:
        """The sha256 of an object's bytes, streamed; None when the key holds nothing."""
        if not self.exists(key):
            return None
        with self.fs.open(self.path(key), "rb") as fh:
            return sha256_stream(fh)


def store_for(location: str | Path) -> ObjectStore:
    """The store of a raw-zone root (a local folder, or an object URL with the storage connection)."""
    from revcycle.settings import get_settings

    text = str(location)
    return ObjectStore.from_url(text, get_settings().storage_conn_id) if "://" in text else ObjectStore(text)


def _object(location: str) -> tuple[ObjectStore, str]:
    """The store and key of an object URL (the store rooted at its folder, so the key is its name)."""
    parent, _, name = location.rpartition("/")
    return store_for(parent), name


@contextmanager
def local_copy(location: str) -> Iterator[Path]:
    """A local path to read a stored file from: the file itself when local, else a temporary download."""
    if "://" not in location:
        yield Path(location)
        return
    store, name = _object(location)
    with tempfile.TemporaryDirectory(prefix="revcycle-raw-") as tmp:
        target = Path(tmp) / name
        store.fs.get_file(store.path(name), str(target))
        yield target


def kept_location(path: Path) -> str:
    """Where a file or folder under the revcycle home is kept: under the storage URL at its path relative to
    home when ``REVCYCLE_STORAGE_URL`` is set, else the path itself."""
    from revcycle.settings import get_settings

    s = get_settings()
    if not s.storage_url:
        return str(path)
    return f"{s.storage_url}/{Path(path).resolve().relative_to(s.home.resolve()).as_posix()}"


def keep(path: Path) -> str:
    """Keep a finished file written under the revcycle home where the deployment keeps its files; return its
    location for the ledger.  With ``REVCYCLE_STORAGE_URL`` it moves to that store (a report, an
    acknowledgement, a quarantined copy leaves this worker's disk; any worker reads it back by location);
    without, it stays where it is."""
    location = kept_location(path)
    if "://" in location:
        store, name = _object(location)
        store.fs.put_file(str(path), store.path(name))
        Path(path).unlink()
    return location


def keep_tree(folder: Path) -> str:
    """``keep`` every file under a folder (a day's audit report); return the folder's location."""
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        keep(path)
    return kept_location(folder)


def read_location(location: str) -> bytes | None:
    """The bytes of a kept file (a local path or an object URL), or None when it is gone."""
    if "://" not in location:
        return Path(location).read_bytes() if Path(location).exists() else None
    store, name = _object(location)
    return store.read(name) if store.exists(name) else None


def sha256_location(location: str) -> str | None:
    """The sha256 of a kept file (a local path or an object URL), streamed; None when it is gone."""
    if "://" not in location:
        return sha256_file(location) if Path(location).exists() else None
    store, name = _object(location)
    return store.sha256(name)


def ensure_buckets() -> list[str]:
    """Create the bucket of every configured object-storage root (storage, raw zone, lake) that is missing;
    return the buckets created.  Local folders need nothing (they are made on first write)."""
    from revcycle.settings import get_settings

    s = get_settings()
    created = []
    for root in sorted({r for r in (s.storage_url, s.raw_root, s.lake_root) if "://" in r}):
        store = store_for(root)
        bucket = store.path("").split("/", 1)[0]
        if not store.fs.exists(bucket):
            try:
                store.fs.mkdir(bucket)
            except FileExistsError:  # another process made it between the look and the make: it is there
                continue
            created.append(bucket)
    return created
