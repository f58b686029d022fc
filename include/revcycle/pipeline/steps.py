"""The shared steps every source goes through; each takes and returns pointers, never rows.

    land -> parse -> validate -> publish -> post

Each step reads the file's ledger row, acts only if the file is in the state
it expects (so retries and replays are no-ops once a step is done, and a
crash resumes where it stopped), and turns a ``RevcycleError`` into a
quarantine with its reason code.  So does any other exception raised by a
file's own content: while parsing or mapping (``PARSER_ERROR``), validating
(``VALIDATION_ERROR``), or the ERP refusing its data (``ERP_REJECTED``), named
by the exception's class only (a message could carry a value).  Failures of
the machine itself (I/O, a lost database connection) propagate: Airflow retries.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from revcycle.adapters import erp, ledger
from revcycle.adapters.db import as_date, as_datetime
from revcycle.adapters.lake import Lake
from revcycle.adapters.landing import LocalFolder, Transport, fingerprint, land_source
from revcycle.adapters.objectstore import keep, local_copy
from revcycle.adapters.storage import copy_private, private_dir, write_private
from revcycle.errors import RevcycleError
from revcycle.pipeline.reports import build_report, write_report
from revcycle.pipeline.stage import failure_reason, stage_file, validate_staged
from revcycle.settings import get_settings
from revcycle.sources.base import ParseContext, ParseFailure, Source
from revcycle.sources.registry import get_source

log = logging.getLogger(__name__)


def _lake() -> Lake:
    return Lake.configured()


def _transport(source: Source, business_date: dt.date) -> Transport:
    s = get_settings()
    if source.fhir_types:
        return _fhir_export(source, business_date)
    if source.name in s.api_sources:
        from revcycle.adapters.partner_api import ApiFolder, PartnerApi, PartnerConfig

        conn_id, path = s.api_sources[source.name]
        return ApiFolder(PartnerApi(PartnerConfig.from_connection(conn_id)), path, source.name)
    if s.inbound_conn_id:
        from revcycle.adapters.sftp import from_airflow_connection

        return from_airflow_connection(s.inbound_conn_id, f"/{source.inbound_subdir}")
    return LocalFolder(s.inbound / source.inbound_subdir)


def _fhir_export(source: Source, business_date: dt.date) -> Transport:
    """The source's Bulk Data export through the FHIR connection; none configured: nothing to land (said)."""
    from revcycle.adapters.fhir_bulk import BulkExport
    from revcycle.adapters.landing import MemoryFolder
    from revcycle.adapters.partner_api import PartnerApi, PartnerConfig

    s = get_settings()
    conn_id = getattr(s, source.fhir_conn_setting)
    try:
        config = PartnerConfig.from_connection(conn_id)
    except Exception as exc:  # Airflow's AirflowNotFoundException, without importing Airflow here
        if type(exc).__name__ != "AirflowNotFoundException":
            raise
        log.warning("%s: no Airflow connection %r; no FHIR export this run", source.name, conn_id)
        return MemoryFolder({}, f"(no connection {conn_id})")
    return BulkExport(
        PartnerApi(config),
        source.name,
        source.fhir_types,
        type_filter=config.extra.get("type_filter"),
        errors_dir=s.quarantine / business_date.isoformat() / "fhir_errors",
    )


def _ready(sha256: str, state: str) -> dict | None:
    """The file's ledger row when it waits for this step, else None (done already, quarantined, unknown)."""
    row = ledger.get(sha256)
    return row if row is not None and row["state"] == state else None


def pointer(sha256: str, **extra) -> dict:
    row = ledger.get(sha256) or {}
    return {"sha256": sha256, "state": row.get("state"), "reason": row.get("reason"), **extra}


def quarantine(sha256: str, reason: str, detail: str, dag_run_id: str | None) -> dict:
    """Keep the file with its reason beside it; nothing of it stays in the lake or is posted."""
    row = ledger.get(sha256)
    ledger.set_state(sha256, "quarantined", reason=reason, detail=detail, dag_run_id=dag_run_id)
    if row["outputs"]:
        # Quarantined after publishing (a refusal at post): its datasets leave the lake.
        _lake().unpublish(sha256, str(row["business_date"])[:10], json.loads(row["outputs"]))
        ledger.set_outputs(sha256, row["partition_key"], [])
    s = get_settings()
    folder = private_dir(s.quarantine / str(row["business_date"])[:10])
    target = folder / sha256
    if not target.exists():
        with local_copy(row["raw_path"]) as raw:
            copy_private(raw, target)
        keep(target)
    reason_file = write_private(
        folder / f"{sha256}.reason.json",
        json.dumps(
            {
                "sha256": sha256,
                "source": row["source"],
                "original_name": row["original_name"],
                "reason": reason,
                "detail": detail,
            },
            indent=2,
        ),
    )
    keep(reason_file)
    _lake().drop_staging(sha256)
    log.warning("quarantined %s file %s: %s", row["source"], sha256[:12], reason)
    return pointer(sha256)


# -- land ---------------------------------------------------------------------
def land(source_name: str, business_date: dt.date, dag_run_id: str | None = None) -> dict:
    """Land new files of a source; return every file of that source with work left (new, released, resumed)."""
    source = get_source(source_name)
    s = get_settings()
    s.ensure_dirs()
    transport = _transport(source, business_date)
    try:
        result = land_source(
            source.name, transport, s.raw_root, source.patterns, business_date, s.stable_seconds, dag_run_id
        )
        if not result.refused and hasattr(transport, "commit"):
            transport.commit()  # everything listed is landed: an incremental source moves its mark
    finally:
        close = getattr(transport, "close", None)
        if close:
            close()
    files = ledger.unfinished(source.name)
    log.info(
        "%s: landed %d new, %d already known, %d refused; %d to process",
        source.name,
        len(result.landed),
        result.skipped,
        len(result.refused),
        len(files),
    )
    return {
        "source": source.name,
        "landed": len(result.landed),
        "skipped": result.skipped,
        "refused": result.refused,
        "files": files,
    }


# -- parse --------------------------------------------------------------------
def _keep_outputs(ctx: ParseContext, acks: list[str]) -> list[str]:
    """Keep what parsing wrote besides staging (acknowledgements, a message-level source's rejected
    messages) where the deployment keeps its files; return the acknowledgements' locations."""
    if ctx.reject_dir is not None and ctx.reject_dir.is_dir():
        for path in sorted(ctx.reject_dir.glob(f"{ctx.sha256[:16]}_*")):
            keep(path)
    return [keep(Path(a)) for a in acks]


def parse(source_name: str, sha256: str, dag_run_id: str | None = None) -> dict:
    row = _ready(sha256, "landed")
    if row is None:
        return pointer(sha256)
    source = get_source(source_name)
    s = get_settings()
    ctx = ParseContext(
        sha256=sha256,
        original_name=row["original_name"],
        business_date=as_date(row["business_date"]),
        landed_at=as_datetime(row["landed_at"]),
        data_source=source.name,
        ack_dir=s.outbound / "acks" / str(row["business_date"])[:10],
        reject_dir=s.quarantine / str(row["business_date"])[:10] / "messages",
    )
    try:
        with local_copy(row["raw_path"]) as raw:
            result, staged_rows = stage_file(source, raw, ctx, _lake())
    except ParseFailure as exc:
        ledger.set_envelope(
            sha256, exc.partial.sender_id, exc.partial.interchanges, exc.partial.groups, exc.partial.transactions
        )
        ledger.set_results(sha256, ack_path=",".join(_keep_outputs(ctx, exc.partial.acks)) or None)
        return quarantine(sha256, exc.reason, exc.detail, dag_run_id)
    except Exception as exc:
        why = failure_reason(exc, "parse")
        if why is None:
            raise
        return quarantine(sha256, *why, dag_run_id)
    ledger.set_envelope(sha256, result.sender_id, result.interchanges, result.groups, result.transactions)
    acks = _keep_outputs(ctx, result.acks)
    ledger.set_results(
        sha256, row_counts=staged_rows, control_totals=result.control_totals, ack_path=",".join(acks) or None
    )
    lake = _lake()
    lake.put_staging_json(sha256, "findings", result.findings)
    lake.put_staging_json(sha256, "partition", {"payer": result.partition_key})
    # X12.5: ISA13 is unique per sender; the same (ISA06, ISA13) with different bytes is a conflict to review.
    if result.interchanges and not row["release_count"]:
        owner = ledger.claim_interchanges(sha256, result.sender_id, result.interchanges)
        if owner:
            return quarantine(
                sha256,
                "DUPLICATE_INTERCHANGE",
                f"interchange control number already received in file {owner[:12]}",
                dag_run_id,
            )
    if source.exclusive is not None:
        # Decided before publish, and again on every release: a payment is never in the lake twice.
        ex = source.exclusive
        keys = lake.read_staging(sha256, ex.dataset, [ex.column]).column(ex.column).to_pylist()
        owner = ledger.claim(sha256, ex.erp_table, [k for k in keys if k])
        if owner:
            return quarantine(
                sha256, ex.reason, f"{ex.dataset} identity already received in file {owner[:12]}", dag_run_id
            )
    ledger.set_state(sha256, "parsed", dag_run_id=dag_run_id)
    return pointer(sha256, rows=sum(staged_rows.values()))


# -- validate -----------------------------------------------------------------
def validate(source_name: str, sha256: str, dag_run_id: str | None = None) -> dict:
    row = _ready(sha256, "parsed")
    if row is None:
        return pointer(sha256)
    source = get_source(source_name)
    lake = _lake()
    try:
        outcome = validate_staged(source, lake, sha256, as_date(row["business_date"]))
    except Exception as exc:
        why = failure_reason(exc, "validate")
        if why is None:
            raise
        return quarantine(sha256, *why, dag_run_id)
    findings = lake.staging_json(sha256, "findings")
    verdict = outcome.quarantine_reason()
    decision = {
        "quarantined": verdict is not None,
        "reason": verdict[0] if verdict else None,
        "detail": verdict[1] if verdict else None,
        "warnings": sorted({w.reason for w in outcome.warnings}),
    }
    report = build_report(row, outcome.as_dicts(), findings, decision)
    folder = get_settings().reports / "validation" / str(row["business_date"])[:10]
    report_path, report_sha = write_report(report, folder)
    ledger.set_results(sha256, report_path=report_path, report_sha256=report_sha)
    if verdict:
        return quarantine(sha256, verdict[0], verdict[1], dag_run_id)
    ledger.set_state(sha256, "validated", dag_run_id=dag_run_id)
    # GX's own seconds ride in the task's XCom: what measures the GX share of a deployment's day (bench).
    return pointer(sha256, warnings=decision["warnings"], gx_seconds=round(outcome.gx_seconds, 3))


# -- publish ------------------------------------------------------------------
def publish(source_name: str, sha256: str, dag_run_id: str | None = None) -> dict:
    row = _ready(sha256, "validated")
    if row is None:
        return pointer(sha256)
    source = get_source(source_name)
    lake = _lake()
    payer = lake.staging_json(sha256, "partition")["payer"]
    outputs = lake.publish(sha256, list(source.datasets), str(row["business_date"])[:10], payer)
    ledger.set_outputs(sha256, payer, outputs)
    ledger.set_state(sha256, "published", dag_run_id=dag_run_id)
    lake.drop_staging(sha256)
    return pointer(sha256, outputs=len(outputs))


# -- post ---------------------------------------------------------------------
def read_outputs(locations: Iterable[str]) -> dict:
    """A published file's tables from the lake, by dataset (``canonical__...``, ``raw__...``)."""
    lake, tables = _lake(), {}
    for location in locations:
        dataset = next(part for part in location.split("/") if part.startswith(("canonical__", "raw__")))
        tables[dataset] = lake.read(location)
    return tables


def load_postings(source: Source, sha256: str, rows: dict[str, list[dict]], control_totals: dict) -> dict[str, int]:
    """Post a file's rows to the ERP with its source's guards: the keys it owns exclusively, and the read-back
    that ties the posted rows to the file's control totals."""
    ex, verify = source.exclusive, source.verify_posted
    owned = erp.Ownership(ex.erp_table, ex.erp_key, sha256, ex.reason) if ex else None
    return erp.load(rows, owned=owned, verify=(lambda conn: verify(sha256, control_totals, conn)) if verify else None)


def post(source_name: str, sha256: str, dag_run_id: str | None = None) -> dict:
    row = _ready(sha256, "published")
    if row is None:
        return pointer(sha256)
    source = get_source(source_name)
    if source.post is None:
        ledger.set_state(sha256, "posted", dag_run_id=dag_run_id)
        return pointer(sha256)
    tables = read_outputs(json.loads(row["outputs"]))
    try:
        rows = source.post(tables, as_date(row["business_date"]), sha256)
        inserted = load_postings(source, sha256, rows, json.loads(row["control_totals"] or "{}"))
    except RevcycleError as exc:
        # Rolled back whole: a duplicate payment, or rows that would not tie out to the source.
        return quarantine(sha256, exc.reason, exc.detail, dag_run_id)
    except Exception as exc:
        refused = erp.rejection(exc)
        if refused is None:
            raise
        return quarantine(sha256, "ERP_REJECTED", f"the ERP database refused the rows ({refused})", dag_run_id)
    counts = json.loads(row["row_counts"] or "{}")
    counts.update({f"erp.{k}": len(v) for k, v in rows.items()})
    counts.update({f"erp.{k}.inserted": v for k, v in inserted.items()})
    ledger.set_results(sha256, row_counts=counts)
    ledger.set_state(sha256, "posted", dag_run_id=dag_run_id)
    return pointer(sha256, posted={k: len(v) for k, v in rows.items()})


def process_file(source_name: str, sha256: str, dag_run_id: str | None = None) -> dict:
    """All steps after landing for one file, in order (what a mapped task group does)."""
    for step in (parse, validate, publish, post):
        result = step(source_name, sha256, dag_run_id)
    return result


# -- before a run ---------------------------------------------------------------
def work_waiting(source_names: Iterable[str]) -> int | None:
    """How many files a run would find to do: files in the local inbound folders whose bytes the ledger does
    not know, plus files with work left (landed, released, interrupted).  None when an inbound is remote
    (SFTP): only a run can tell."""
    if get_settings().inbound_conn_id or any(n in get_settings().api_sources for n in source_names):
        return None
    waiting = 0
    for name in source_names:
        source = get_source(name)
        folder = LocalFolder(get_settings().inbound / source.inbound_subdir)
        for remote in folder.list():
            if any(fnmatch.fnmatch(remote.name, p) for p in source.patterns):
                waiting += ledger.get(fingerprint(folder, remote.name)) is None
        waiting += len(ledger.unfinished(source.name))
    return waiting
