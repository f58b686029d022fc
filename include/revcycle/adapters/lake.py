"""Lake storage: staging, atomic publish and reads of Parquet, on a local folder or object storage.

The lake's root is a local folder (the embedded default) or ``s3://bucket/prefix``; both go through one
``ObjectStore`` (fsspec).  A file's datasets are parsed into ``_staging/<sha256>/`` (locally in place; on
object storage assembled in a local scratch folder, then put), validated there, then published:

1. every dataset object is copied to its partition key ``<dataset>/business_date=D[/payer_id=P]/<sha256>.parquet``
   (one object put or copy each: a reader of one object never sees part of it);
2. then the file's manifest ``_manifests/business_date=D/<sha256>.manifest.json`` names them - the
   commit point for readers of the store;
3. then the ledger records the same list as the file's outputs - the commit point inside revcycle
   (posting, reconciliation and provenance read a file's datasets from there, never by listing).

Keys come from the source file's sha256, so a replay rewrites the same keys with the same bytes and the
same manifest: never a second copy.  A file quarantined after publish loses its manifest first, then its
objects.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from revcycle.adapters.objectstore import ObjectStore, store_for
from revcycle.adapters.storage import StagingWriter

MANIFESTS = "_manifests"
RUN_COLUMNS = ("ingest_datetime",)


class Lake:
    def __init__(self, root: str | Path, store: ObjectStore | None = None) -> None:
        self.store = store or ObjectStore(str(root))
        self.local = self.store.protocol == "file"
        self.root = Path(self.store.path("").rstrip("/")) if self.local else None

    @classmethod
    def configured(cls) -> Lake:
        from revcycle.settings import get_settings

        return cls(get_settings().lake_root, store_for(get_settings().lake_root))

    # -- staging ---------------------------------------------------------------------------------------
    def _staging_key(self, sha256: str, name: str = "") -> str:
        return f"_staging/{sha256}/{name}".rstrip("/")

    def staging_writer(self, sha256: str) -> StagingWriter:
        if self.local:
            return StagingWriter(self.root / "_staging" / sha256)
        scratch = Path(tempfile.mkdtemp(prefix="revcycle-staging-"))
        return StagingWriter(
            scratch,
            upload=lambda name, path: self.store.fs.put_file(
                str(path), self.store.path(self._staging_key(sha256, name))
            ),
        )

    def read_staging(self, sha256: str, dataset: str, columns: list[str] | None = None) -> pa.Table:
        return self.read(self.store.location(self._staging_key(sha256, f"{dataset}.parquet")), columns)

    def put_staging_json(self, sha256: str, name: str, value: object) -> None:
        self.store.put(self._staging_key(sha256, f"{name}.json"), json.dumps(value).encode())

    def staging_json(self, sha256: str, name: str) -> object:
        return json.loads(self.store.read(self._staging_key(sha256, f"{name}.json")))

    def drop_staging(self, sha256: str) -> None:
        self.store.remove_tree(self._staging_key(sha256))

    # -- publish ---------------------------------------------------------------------------------------
    def partition_key(self, dataset: str, business_date: str, payer: str | None, sha256: str) -> str:
        parts = [dataset, f"business_date={business_date}"]
        if payer:
            parts.append(f"payer_id={payer}")
        return "/".join([*parts, f"{sha256}.parquet"])

    def manifest_key(self, sha256: str, business_date: str) -> str:
        return f"{MANIFESTS}/business_date={business_date}/{sha256}.manifest.json"

    def publish(self, sha256: str, datasets: list[str], business_date: str, payer: str | None) -> list[str]:
        """Publish a staged file's datasets (objects first, manifest last); return their locations."""
        listed = []
        for dataset in datasets:
            key = self.partition_key(dataset, business_date, payer, sha256)
            size = self.store.copy_in(self._staging_key(sha256, f"{dataset}.parquet"), key)
            listed.append({"dataset": dataset, "key": key, "size": size})
        manifest = {"sha256": sha256, "business_date": business_date, "payer_id": payer, "objects": listed}
        self.store.put(self.manifest_key(sha256, business_date), json.dumps(manifest, sort_keys=True).encode())
        return [self.store.location(o["key"]) for o in listed]

    def unpublish(self, sha256: str, business_date: str, locations: list[str]) -> None:
        """Take a file's published datasets out of the lake (it was quarantined after publishing)."""
        self.store.remove(self.manifest_key(sha256, business_date))
        for location in locations:
            self.store.remove(self.key_of(location))

    def manifests(self, business_date: str | None = None) -> list[dict]:
        """Every published file's manifest (of one day, or all): what a reader of the store may see."""
        prefix = f"{MANIFESTS}/business_date={business_date}" if business_date else MANIFESTS
        return [json.loads(self.store.read(k)) for k in self.store.keys(prefix) if k.endswith(".manifest.json")]

    def digests(self, business_date: str | None = None) -> dict[str, str]:
        """Per dataset, the sha256 of its published records in a canonical order: two lakes hold the same
        data exactly when these are equal, whatever their storage or the order files were published in.
        ``ingest_datetime`` (when the file landed) is left out: it is a fact of the run, not of the data."""
        rows: dict[str, list[str]] = {}
        for manifest in self.manifests(business_date):
            for obj in manifest["objects"]:
                table = self.read(self.store.location(obj["key"]))
                rows.setdefault(obj["dataset"], []).extend(
                    json.dumps(r, sort_keys=True, default=str)
                    for r in table.drop_columns([c for c in RUN_COLUMNS if c in table.column_names]).to_pylist()
                )
        return {
            name: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest() for name, lines in sorted(rows.items())
        }

    def integrity(self, business_date: str | None = None) -> dict[str, list[str]]:
        """What would break the publish protocol (objects first, manifest last) for the canonical datasets (the
        reconciled extracts, ``recon__*``, are whole objects of their own): a manifest naming an object
        that is not there, and a published dataset object that no manifest names (a reader listing the
        dataset would see records that were never published whole). Both lists are empty in a sound lake."""
        named, missing = set(), []
        for manifest in self.manifests(business_date):
            for obj in manifest["objects"]:
                named.add(obj["key"])
                if not self.store.exists(obj["key"]):
                    missing.append(obj["key"])
        day = f"/business_date={business_date}/" if business_date else "/business_date="
        published = {
            k for k in self.store.keys("") if not k.startswith(("_", "recon__")) and day in k and k.endswith(".parquet")
        }
        return {"missing": sorted(missing), "orphans": sorted(published - named)}

    # -- whole objects ---------------------------------------------------------------------------------
    def put_parquet(self, key: str, data: bytes) -> tuple[str, str]:
        """Write one Parquet object whole (a reconciled extract, from ``parquet_bytes``); return its location
        and sha256."""
        self.store.put(key, data)
        return self.store.location(key), hashlib.sha256(data).hexdigest()

    def key_of(self, location: str) -> str:
        base = self.store.location("").rstrip("/") + "/"
        if not str(location).startswith(base):
            raise ValueError("a location outside this lake")
        return str(location)[len(base) :]

    def sha256(self, location: str) -> str | None:
        """The sha256 of a published object's bytes, or None when it is gone."""
        return self.store.sha256(self.key_of(location))

    def exists(self, location: str) -> bool:
        return self.store.exists(self.key_of(location))

    def read(self, location: str | Path, columns: list[str] | None = None) -> pa.Table:
        """A lake file, whole or only ``columns``."""
        if self.local:
            return pq.read_table(location, columns=columns)
        with self.store.fs.open(self.store.path(self.key_of(str(location))), "rb") as fh:
            return pq.read_table(fh, columns=columns)


def parquet_bytes(table: pa.Table) -> bytes:
    """A table as one Parquet file's bytes, as every whole object of the lake is written."""
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue().to_pybytes()
