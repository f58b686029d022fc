"""Objects under one root - a local folder or ``s3://bucket/prefix`` - through fsspec, with the two
guarantees the pipeline needs from any store:

- **Immutable create** (raw zone, acknowledgements sent): ``create`` writes a key only if it does not exist
  (S3 ``If-None-Match: *``, a conditional put; locally a hard link of a finished temp file, which fails if
  the name exists).  The same bytes again are a no-op; other bytes under the key are refused.
- **Atomic publish** (lake datasets): ``publish`` writes a file's objects under their final keys, then
  its manifest last.  Readers take a dataset from manifests only, so they never see half a file's objects;
  keys come from the file's sha256, so a replay rewrites the same keys (same bytes) and the same manifest,
  never a second copy.

Credentials for S3 come from an Airflow connection (``conn_id``: login = access key, password = secret key,
extra ``endpoint_url`` and ``region_name``), never from code.  The raw zone lands through it (a local
folder, or ``REVCYCLE_RAW_ZONE_URL``); the lake, quarantine and reports are still local folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import fsspec

from revcycle.adapters.storage import private_dir
from revcycle.errors import RevcycleError

MANIFEST_SUFFIX = ".manifest.json"


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ObjectConflict(RevcycleError):
    """An immutable key already holds other bytes."""


@dataclass(frozen=True)
class Published:
    manifest: str
    objects: list[dict]


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
                if _sha256(there) != _sha256(here):
                    raise ObjectConflict("OBJECT_EXISTS", f"{key} already holds other bytes") from exc
            return False
        return True

    # -- atomic publish --------------------------------------------------------------------------------
    def publish(self, manifest_key: str, objects: dict[str, bytes]) -> Published:
        """Write every object, then the manifest naming them (key, size, sha256): the commit point."""
        listed = []
        for key, data in sorted(objects.items()):
            self.write(key, data)
            listed.append({"key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        manifest = manifest_key if manifest_key.endswith(MANIFEST_SUFFIX) else manifest_key + MANIFEST_SUFFIX
        self.write(manifest, json.dumps({"objects": listed}, sort_keys=True).encode())
        return Published(manifest, listed)

    def write(self, key: str, data: bytes) -> None:
        """Write (or replace) one object; part of a publish, never on its own for lake data."""
        path = self.path(key)
        if self.protocol == "file":
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, data)

    def published(self, prefix: str = "") -> list[dict]:
        """Objects of every manifest under ``prefix``; an object written without its manifest is not there."""
        base = self.path(prefix.rstrip("/")) if prefix else self.path("").rstrip("/")
        if not self.fs.exists(base):
            return []
        out = []
        for path in sorted(self.fs.find(base)):
            if path.endswith(MANIFEST_SUFFIX):
                out.extend(json.loads(self.fs.cat_file(path))["objects"])
        return out

    def read(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))

    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))


def store_for(location: str | Path) -> ObjectStore:
    """The store of a raw-zone root (a local folder, or an object URL with the storage connection)."""
    from revcycle.settings import get_settings

    text = str(location)
    return ObjectStore.from_url(text, get_settings().storage_conn_id) if "://" in text else ObjectStore(text)


@contextmanager
def local_copy(location: str) -> Iterator[Path]:
    """A local path to read a stored file from: the file itself when local, else a temporary download."""
    if "://" not in location:
        yield Path(location)
        return
    parent, _, name = location.rpartition("/")
    store = store_for(parent)
    with tempfile.TemporaryDirectory(prefix="revcycle-raw-") as tmp:
        target = Path(tmp) / name
        store.fs.get_file(store.path(name), str(target))
        yield target
