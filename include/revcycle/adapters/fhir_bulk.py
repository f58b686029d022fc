"""FHIR Bulk Data Access (``$export``) as a landing transport, with an incremental watermark.

``list`` runs one export: the kick-off (``GET [base]/$export`` with ``Prefer: respond-async``, ``_type``,
``_since`` = the source's watermark, ``_typeFilter`` when configured), then polls the status URL honouring
``Retry-After`` and reporting ``X-Progress``, then downloads every NDJSON output (with the access token when
the manifest says ``requiresAccessToken``) into a private scratch folder.  The export lands as one file: its
outputs one after another, in the manifest's order, under a name made of the source and the export's
``transactionTime``.  One export is one consistent snapshot, and a payment's ``PaymentReconciliation`` and its
``ExplanationOfBenefit`` resources come in two outputs (one a type): landed apart, neither could be posted.

Nothing lands unless every output downloaded.  ``commit`` (called once the landing step has landed the
file) advances the watermark to the export's ``transactionTime`` in ``ops.source_watermark``, records the
manifest's ``error`` outputs (OperationOutcome) beside the quarantine, and deletes the job on the server.
An export that failed anywhere before leaves the watermark where it was: the next run asks again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from revcycle.adapters.db import engine_for, query
from revcycle.adapters.landing import RemoteFile
from revcycle.adapters.partner_api import PartnerApi, retry_after
from revcycle.errors import RevcycleError

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"


def watermark(source: str) -> str | None:
    with engine_for("ops").connect() as conn:
        row = query(conn, "ops/watermark_get", {"source": source}).first()
    return row[0] if row else None


def set_watermark(source: str, mark: str) -> None:
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/watermark_set",
            {"source": source, "mark": mark, "updated_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
        )


class BulkExport:
    """One source's system-level ``$export`` as a transport (``list``/``fetch``/``describe``/``commit``)."""

    def __init__(
        self,
        api: PartnerApi,
        source: str,
        types: tuple[str, ...],
        type_filter: str | None = None,
        max_wait_seconds: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        errors_dir: Path | None = None,
    ) -> None:
        self.api, self.source, self.types, self.type_filter = api, source, types, type_filter
        self.max_wait, self.sleep, self.errors_dir = max_wait_seconds, sleep, errors_dir
        self.scratch: Path | None = None
        self.files: list[RemoteFile] | None = None
        self.manifest: dict | None = None
        self.status_url: str | None = None
        self.progress: list[str] = []

    # -- the transport ------------------------------------------------------
    def list(self) -> list[RemoteFile]:
        if self.files is None:  # one export a run, however often the landing step lists
            self.files = self._export()
        return list(self.files)

    def fetch(self, name: str, out: BinaryIO) -> None:
        if not self.files or name != self.files[0].name:
            raise RevcycleError("API_REFUSED", f"{name}: not this run's export")
        for part in sorted(self.scratch.glob("part-*.ndjson")):
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)

    def describe(self) -> str:
        return f"{self.api.config.base_url}/$export ({self.source})"

    def commit(self) -> None:
        """The export's file is landed: remember its transactionTime, keep its errors, delete the job."""
        if self.manifest is None:
            return
        set_watermark(self.source, self.manifest["transactionTime"])
        self._keep_errors()
        if self.status_url:
            answer = self.api.request("DELETE", self.status_url, business_key=f"{self.source}-delete")
            if answer.status_code not in (200, 202, 204, 404):
                log.warning("%s: the export job was not deleted (HTTP %s)", self.source, answer.status_code)
        log.info("%s: watermark now %s", self.source, self.manifest["transactionTime"])

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.api.close()

    # -- the export ---------------------------------------------------------
    def _export(self) -> list[RemoteFile]:
        since = watermark(self.source)
        params = {"_type": ",".join(self.types), "_outputFormat": NDJSON}
        if since:
            params["_since"] = since
        if self.type_filter:
            params["_typeFilter"] = self.type_filter
        answer = self.api.request(
            "GET",
            "/$export",
            params=params,
            headers={"Accept": FHIR_JSON, "Prefer": "respond-async"},
            business_key=f"{self.source}-kickoff",
        )
        if answer.status_code != 202 or not answer.headers.get("content-location"):
            raise RevcycleError(
                "FHIR_EXPORT_REFUSED", f"{self.source} kick-off: HTTP {answer.status_code}{_outcome(answer)}"
            )
        self.status_url = answer.headers["content-location"]
        self.manifest = manifest = self._wait()
        outputs = [o for o in manifest.get("output", []) if o.get("type") in self.types]
        log.info(
            "%s: export of %s since %s ready: %d output file(s), %d error file(s)",
            self.source,
            ",".join(self.types),
            since or "the beginning",
            len(outputs),
            len(manifest.get("error", [])),
        )
        if not outputs:
            return []
        self.scratch = Path(tempfile.mkdtemp(prefix="revcycle-fhir-"))
        size = 0
        for n, output in enumerate(outputs, start=1):
            size += self._download(output["url"], self.scratch / f"part-{n:05d}.ndjson", manifest, f"output-{n}")
        stamp = "".join(ch for ch in manifest["transactionTime"] if ch.isalnum())[:24]
        return [RemoteFile(f"{self.source}_{stamp}.ndjson", size, 0.0)]

    def _wait(self) -> dict:
        """Poll the status URL until the manifest (200), honouring Retry-After; a failed job is refused."""
        started = time.monotonic()
        polls = 0
        while True:
            polls += 1
            answer = self.api.request(
                "GET", self.status_url, headers={"Accept": FHIR_JSON}, business_key=f"{self.source}-status-{polls}"
            )
            if answer.status_code == 200:
                manifest = answer.json()
                if not manifest.get("transactionTime"):
                    raise RevcycleError("FHIR_EXPORT_REFUSED", f"{self.source}: the manifest has no transactionTime")
                return manifest
            if answer.status_code != 202:
                raise RevcycleError(
                    "FHIR_EXPORT_FAILED", f"{self.source} export status: HTTP {answer.status_code}{_outcome(answer)}"
                )
            progress = answer.headers.get("x-progress", "")
            if progress and (not self.progress or self.progress[-1] != progress):
                self.progress.append(progress[:100])
                log.info("%s: export in progress: %s", self.source, progress[:100])
            if time.monotonic() - started > self.max_wait:
                raise RevcycleError("FHIR_EXPORT_TIMEOUT", f"{self.source}: no manifest after {self.max_wait:.0f}s")
            self.sleep(min(retry_after(answer, 2.0), 120.0))

    def _download(self, url: str, target: Path, manifest: dict, key: str) -> int:
        headers = {"Accept": NDJSON}
        # An output that needs no token (a pre-signed storage URL) is fetched without ours: it may be a third party.
        withhold = {} if manifest.get("requiresAccessToken", True) else {"withhold_token": True}
        answer = self.api.request("GET", url, headers=headers, business_key=f"{self.source}-{key}", **withhold)
        if answer.status_code != 200:
            raise RevcycleError("FHIR_EXPORT_FAILED", f"{self.source} download of {key}: HTTP {answer.status_code}")
        body = answer.content
        if body and not body.endswith(b"\n"):
            body += b"\n"  # the next output starts on its own line
        fd = target.open("wb")
        with fd:
            fd.write(body)
        target.chmod(0o600)
        return len(body)

    def _keep_errors(self) -> None:
        errors = self.manifest.get("error", [])
        if not errors or self.errors_dir is None:
            return
        from revcycle.adapters.storage import private_dir, write_private

        folder = private_dir(self.errors_dir)
        lines = 0
        for n, output in enumerate(errors, start=1):
            answer = self.api.request(
                "GET", output["url"], headers={"Accept": NDJSON}, business_key=f"{self.source}-error-{n}"
            )
            if answer.status_code == 200:
                stamp = self.manifest["transactionTime"].replace(":", "")[:17]
                write_private(folder / f"fhir-export-errors_{self.source}_{stamp}_{n}.ndjson", answer.text)
                lines += sum(1 for line in answer.text.splitlines() if line.strip())
        log.warning("%s: the export reported %d OperationOutcome(s), kept in %s", self.source, lines, folder)


def _outcome(answer) -> str:
    """An OperationOutcome's issue codes (never its diagnostics: a server may quote data there)."""
    try:
        body = answer.json()
    except (ValueError, json.JSONDecodeError):
        return ""
    codes = [str(i.get("code", "")) for i in body.get("issue", [])] if isinstance(body, dict) else []
    return f" ({', '.join(codes)})" if codes else ""
