"""Local file helpers: private folders and files (PHI), atomic whole-file writes, staging Parquet writers."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


class StagingWriter:
    """Streams record batches of several datasets into staging Parquet files (flat memory).

    A transaction set's records arrive a few hundred rows at a time; each dataset's batches are held until
    ``ROW_GROUP`` rows are waiting and written as one row group (1,771 small writes took 1.8 s of a
    100k-claim 835's parse; bench/HISTORY.md), so memory stays bounded by a row group per dataset.
    """

    ROW_GROUP = 65536

    def __init__(self, folder: Path, upload=None) -> None:
        self.folder = folder
        self.upload = upload  # object storage: each finished file is put under staging, then the scratch goes
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._waiting: dict[str, list[pa.Table]] = {}
        self._waiting_rows: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    def write(self, dataset: str, table: pa.Table) -> None:
        self._waiting.setdefault(dataset, []).append(table)
        self._waiting_rows[dataset] = self._waiting_rows.get(dataset, 0) + table.num_rows
        self.rows[dataset] = self.rows.get(dataset, 0) + table.num_rows
        if self._waiting_rows[dataset] >= self.ROW_GROUP:
            self._flush(dataset)

    def _flush(self, dataset: str) -> None:
        waiting = self._waiting.pop(dataset, [])
        self._waiting_rows.pop(dataset, None)
        if not waiting:
            return
        table = waiting[0] if len(waiting) == 1 else pa.concat_tables(waiting)
        writer = self._writers.get(dataset)
        if writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(self.folder / f"{dataset}.parquet.tmp", table.schema, compression="zstd")
            self._writers[dataset] = writer
        writer.write_table(table)

    def close(self, datasets: list[str], schemas: dict[str, pa.Schema]) -> None:
        """Finish every file; datasets that got no rows are written empty (a file per dataset, always)."""
        for name in datasets:
            if name not in self._writers and name not in self._waiting:
                self.write(name, schemas[name].empty_table())
        for name in list(self._waiting):
            self._flush(name)
        for name, writer in self._writers.items():
            writer.close()
            tmp = self.folder / f"{name}.parquet.tmp"
            _fsync_file(tmp)
            os.replace(tmp, self.folder / f"{name}.parquet")
        self._writers.clear()
        if self.upload is not None:
            for path in sorted(self.folder.glob("*.parquet")):
                self.upload(path.name, path)
            shutil.rmtree(self.folder, ignore_errors=True)

    def abort(self) -> None:
        """Discard everything staged so far (the writer may be written to again, from nothing)."""
        self._waiting.clear()
        self._waiting_rows.clear()
        self.rows.clear()
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


# Files that may hold PHI (raw copies, quarantined files and messages, outbound 276s, the exchange
# folders) are the owner's to write and the service group's to read, nobody else's; so are their folders.
PRIVATE_FILE = 0o640
PRIVATE_DIR = 0o750


def private_dir(path: Path) -> Path:
    """Create ``path`` as a private folder, and every missing folder above it; an existing ``path`` is made
    private too (folders above that existed already are left as they are)."""
    missing = []
    at = Path(path)
    while not at.exists():
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_opener(path: str, flags: int) -> int:
    """``open(..., opener=private_opener)``: a file created 0640 whatever the umask allows beyond it."""
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def write_private(path: Path, data: bytes | str, encoding: str = "utf-8", errors: str = "strict") -> Path:
    if isinstance(data, str):
        data = data.encode(encoding, errors)
    with open(path, "wb", opener=private_opener) as fh:
        fh.write(data)
    return path


def copy_private(src: Path | str, dest: Path) -> Path:
    with open(src, "rb") as fin, open(dest, "wb", opener=private_opener) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return dest


def sha256_stream(stream: BinaryIO) -> str:
    """The sha256 of a stream's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path | str) -> str:
    """The sha256 of a file's bytes (files are known by it: raw zone, reports, extracts)."""
    with open(path, "rb") as fh:
        return sha256_stream(fh)


def write_atomic(path: Path, data: bytes) -> str:
    """Write a whole file so a reader never sees part of it (temp name, fsync, rename); return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.writing")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()
