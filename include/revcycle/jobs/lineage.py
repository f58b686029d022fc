"""OpenLineage for every task, through the Airflow OpenLineage provider: real datasets and our facets.

A task body calls ``record(context, source, step, result)`` after its step;
``RevcycleExtractor`` (registered with ``[openlineage] extractors``) hands
that record to the provider when the task completes, so the provider's own
COMPLETE event carries:

- inputs/outputs named by the OpenLineage naming spec: the inbound file
  (``file`` or ``sftp://host:port``), the raw-zone object, the lake dataset
  directories (``file``, ``/…/lake/canonical__x``), ERP tables
  (``postgres://host:port`` + ``db.erp.table``; ``sqlite`` + ``<file>.erp.table``),
  reports, acknowledgements and outbound files;
- dataset facets: schema, output statistics (rows), data quality assertions
  (every expectation's outcome, no values), column lineage from canonical
  columns to ERP interface columns on the post step;
- the ``revcycle`` run facet: sha256, source, step, ledger state and reason,
  row counts and control totals (counts and money sums only: never PHI).

Records are keyed by DAG, task, run and map index and popped when used, so
one task's lineage never leaks into the next one when ``dag.test()`` runs
every task in one process; a task with nothing recorded gets none.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import attr
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    RunFacet,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    output_statistics_output_dataset,
    schema_dataset,
)

from revcycle.adapters.objectstore import read_location

log = logging.getLogger(__name__)
_STASH: dict[tuple, dict] = {}
# Ledger states that mean a step has done its work on a file.
DONE_AFTER = {
    "parse": ("parsed", "validated", "published", "posted"),
    "validate": ("validated", "published", "posted"),
    "publish": ("published", "posted"),
    "post": ("posted",),
}

# ERP column <- canonical column where the names differ (same names map by themselves).
COLUMN_RENAMES = {
    ("cash_receipt", "receipt_key"): ("canonical__remittance", "remittance_key"),
    ("cash_receipt", "payer_id"): ("canonical__remittance", "payer_identifier"),
    ("cash_receipt", "amount"): ("canonical__remittance", "payment_amount"),
    ("cash_receipt", "transaction_control"): ("canonical__remittance", "transaction_control_number"),
    ("receipt_application", "applied_amount"): ("canonical__claim_payment", "paid_amount"),
    ("receipt_application", "receipt_key"): ("canonical__claim_payment", "remittance_key"),
    ("journal_line", "journal_key"): ("canonical__remittance", "remittance_key"),
    ("claim_status_history", "claim_status_event_key"): ("canonical__claim_status_event", "claim_status_event_key"),
    ("claim_status", "last_event_key"): ("canonical__claim_status_event", "claim_status_event_key"),
    ("ar_open_item", "as_of_date"): ("canonical__claim_open_item", "business_date"),
    ("inventory_transaction", "transaction_key"): ("canonical__supply_usage", "usage_key"),
    ("inventory_transaction", "cost_center"): ("canonical__supply_usage", "department"),
    ("inventory_transaction", "transaction_date"): ("canonical__supply_usage", "transaction_date"),
    ("replenishment_request", "unit_price"): ("canonical__supply_usage", "master_unit_cost"),
    ("replenishment_request", "used_on"): ("canonical__supply_usage", "transaction_date"),
}


@attr.define
class RevcycleRunFacet(RunFacet):
    """What a revcycle step did to one file or one day: identities, counts, totals - never values."""

    source: str = attr.field(default="")
    step: str = attr.field(default="")
    sha256: str | None = attr.field(default=None)
    state: str | None = attr.field(default=None)
    reason: str | None = attr.field(default=None)
    rowCounts: dict = attr.field(factory=dict)
    controlTotals: dict = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return "https://github.com/revcycle/revcycle/blob/main/docs/facets/RevcycleRunFacet.json"


# -- dataset names (OpenLineage naming spec) -------------------------------------------
def file_dataset(path: str | Path) -> tuple[str, str]:
    """A kept file as an OpenLineage dataset: namespace ``file`` and its path, or, for an object URL, the
    object-storage naming (namespace ``scheme://bucket``, name the key)."""
    text = str(path)
    if "://" in text:
        scheme, rest = text.split("://", 1)
        bucket, _, key = rest.partition("/")
        return f"{scheme}://{bucket}", key
    return "file", text


def erp_dataset(table: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    from revcycle.adapters.db import database_url

    url = make_url(database_url("erp"))
    if url.get_backend_name() == "postgresql":
        return f"postgres://{url.host or 'localhost'}:{url.port or 5432}", f"{url.database}.erp.{table}"
    return "sqlite", f"{url.database}.erp.{table}"


def lake_dataset(name: str) -> tuple[str, str]:
    from revcycle.settings import get_settings

    return file_dataset(f"{get_settings().lake_root}/{name}")


def inbound_dataset(source_subdir: str, name: str, source_name: str | None = None) -> tuple[str, str]:
    """Where an inbound file came from, as an OpenLineage dataset: the partner API's listing (namespace its
    base URL), the SFTP server, or the local inbound folder."""
    from revcycle.settings import get_settings

    s = get_settings()
    if source_name in s.api_sources:
        conn_id, path = s.api_sources[source_name]
        try:
            from airflow.sdk import BaseHook

            host = BaseHook.get_connection(conn_id).host or conn_id
        except Exception:  # noqa: BLE001 - lineage never fails a task
            host = conn_id
        return (host if "://" in host else f"https://{host}").rstrip("/"), f"{path}/{name}"
    if s.inbound_conn_id:
        try:
            from airflow.sdk import BaseHook

            conn = BaseHook.get_connection(s.inbound_conn_id)
            return f"sftp://{conn.host}:{conn.port or 22}", f"/{source_subdir}/{name}"
        except Exception:  # noqa: BLE001 - lineage never fails a task
            return f"sftp://{s.inbound_conn_id}", f"/{source_subdir}/{name}"
    return file_dataset(s.inbound / source_subdir / name)


# -- building a task's lineage ------------------------------------------------------
def _schema_facet(dataset: str) -> schema_dataset.SchemaDatasetFacet | None:
    from revcycle.domain.canonical import SCHEMAS

    schema = SCHEMAS.get(dataset)
    if schema is None:
        return None
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=f.name, type=str(f.type)) for f in schema]
    )


def _erp_columns(table: str) -> list[str]:
    from sqlalchemy import text

    from revcycle.adapters.db import engine_for

    with engine_for("erp").connect() as conn:
        return list(conn.execute(text(f"select * from erp.{table} where 1 = 0")).keys())


def column_lineage(table: str, datasets: list[str]) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """ERP column <- canonical column(s): by rename table, else by the same name in the source's datasets."""
    from revcycle.domain.canonical import SCHEMAS

    fields = {}
    for column in _erp_columns(table):
        origin = COLUMN_RENAMES.get((table, column))
        sources = (
            [origin]
            if origin and origin[0] in datasets
            else [(d, column) for d in datasets if d in SCHEMAS and column in SCHEMAS[d].names][:1]
        )
        if not sources:
            continue
        fields[column] = column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(namespace=lake_dataset(d)[0], name=lake_dataset(d)[1], field=c)
                for d, c in sources
            ],
            transformationType="IDENTITY" if sources[0][1] == column else "DIRECT",
            transformationDescription="" if sources[0][1] == column else f"{sources[0][1]} -> {column}",
        )
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields)


def step_lineage(source_name: str, step: str, result: dict) -> dict:
    """Inputs, outputs and the run facet of one shared step, from the ledger (pointers in, names out)."""
    from revcycle.adapters import ledger
    from revcycle.sources.registry import get_source

    source = get_source(source_name)
    if step == "land":
        rows = [ledger.get(sha) for sha in result.get("files", [])]
        return {
            "inputs": [(inbound_dataset(source.inbound_subdir, r["original_name"], source.name), {}) for r in rows if r]
            or [(inbound_dataset(source.inbound_subdir, "", source.name), {})],
            "outputs": [(file_dataset(r["raw_path"]), {}) for r in rows if r],
            "facet": RevcycleRunFacet(
                source=source_name,
                step=step,
                rowCounts={"landed": result.get("landed", 0), "to_process": len(result.get("files", []))},
            ),
        }
    sha = result.get("sha256")
    row = ledger.get(sha) if sha else None
    if row is None:
        return {}
    counts = json.loads(row["row_counts"] or "{}")
    totals = json.loads(row["control_totals"] or "{}")
    facet = RevcycleRunFacet(
        source=source_name,
        step=step,
        sha256=sha,
        state=row["state"],
        reason=row["reason"],
        rowCounts=counts,
        controlTotals=_money_only(totals),
    )
    raw = (file_dataset(row["raw_path"]), {})
    datasets = list(source.datasets)
    if row["state"] not in DONE_AFTER[step] and step != "validate":
        # The step did nothing to this file (quarantined before or here): its inputs and reason, no outputs.
        return {"inputs": [raw], "outputs": [], "facet": facet}
    if step == "parse":
        outputs = [(file_dataset(p), {}) for p in (row["ack_path"] or "").split(",") if p]
        return {"inputs": [raw], "outputs": outputs, "facet": facet}
    if step == "validate":
        assertions = _assertions(row["report_path"])
        outputs = [(file_dataset(row["report_path"]), {})] if row["report_path"] else []
        return {
            "inputs": [(raw[0], {"dataQualityAssertions": assertions} if assertions else {})],
            "outputs": outputs,
            "facet": facet,
        }
    if step == "publish":
        return {
            "inputs": [raw],
            "facet": facet,
            "outputs": [
                (
                    lake_dataset(d),
                    {
                        "schema": _schema_facet(d),
                        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                            rowCount=int(counts.get(d, 0))
                        ),
                    },
                )
                for d in datasets
            ],
        }
    if step == "post":
        tables = sorted(k[4:] for k in counts if k.startswith("erp.") and not k.endswith(".inserted"))
        return {
            "inputs": [(lake_dataset(d), {}) for d in datasets],
            "facet": facet,
            "outputs": [
                (
                    erp_dataset(t),
                    {
                        "columnLineage": column_lineage(t, datasets),
                        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                            rowCount=int(counts.get(f"erp.{t}", 0))
                        ),
                    },
                )
                for t in tables
            ],
        }
    return {"inputs": [raw], "outputs": [], "facet": facet}


def _money_only(totals: dict) -> dict:
    """Control totals as recorded (counts, sums, reason codes); lists of per-message details are dropped."""
    return {k: v for k, v in totals.items() if not isinstance(v, list)}


def _assertions(report_path: str | None) -> list[dict]:
    data = read_location(report_path) if report_path else None
    if data is None:
        return None
    report = json.loads(data)
    items = [
        data_quality_assertions_dataset.Assertion(
            assertion=f"{r.get('expectation')}:{r.get('reason')}",
            success=bool(r.get("success")),
            column=r.get("column"),
        )
        for r in report.get("expectations", [])
    ]
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(assertions=items)


# -- the hand-over to the provider --------------------------------------------------
def _key(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> tuple:
    return dag_id, task_id, run_id, -1 if map_index is None else int(map_index)


def record(context: dict, lineage: dict) -> None:
    """Stash a task's lineage for the extractor; never fails the task."""
    if not lineage:
        return
    try:
        ti = context["ti"]
        _STASH[_key(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1))] = lineage
    except Exception:
        log.debug("lineage not recorded", exc_info=True)


def record_step(context: dict, source_name: str, step: str, result: dict) -> None:
    try:
        record(context, step_lineage(source_name, step, result))
    except Exception:
        log.warning("lineage for %s.%s could not be built", source_name, step, exc_info=True)


def datasets_lineage(step: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]], **facet) -> dict:
    """Lineage for tasks outside the shared steps (inquiries, matching, reconciliation)."""
    return {
        "inputs": [(d, {}) for d in inputs],
        "outputs": [(d, {}) for d in outputs],
        "facet": RevcycleRunFacet(source=facet.pop("source", ""), step=step, **facet),
    }


# Datasets read and written by the day-level functions (not per file).
FUNCTION_DATASETS = {
    "revcycle.jobs.inquiries:build": (
        ["erp:ar_open_item", "erp:receipt_application", "erp:cash_receipt", "erp:claim_status", "erp:claim_inquiry"],
        ["erp:claim_inquiry"],
    ),
    "revcycle.jobs.inquiries:upload": ([], []),
    "revcycle.jobs.supply_match:run": (
        ["erp:replenishment_request", "erp:supplier_invoice_line"],
        ["erp:invoice_match"],
    ),
    "revcycle.jobs.reconciliation:run": (
        [
            "lake:canonical__remittance",
            "lake:canonical__claim_payment",
            "lake:canonical__adjustment",
            "lake:canonical__bank_deposit",
            "erp:cash_receipt",
            "erp:receipt_application",
            "erp:claim_status",
            "erp:ar_open_item",
            "erp:invoice_match",
        ],
        [
            "lake:recon__cash",
            "lake:recon__claims",
            "lake:recon__denials",
            "lake:recon__supply",
            "lake:recon__exceptions",
        ],
    ),
}


def _named(ref: str) -> tuple[str, str]:
    kind, name = ref.split(":", 1)
    return erp_dataset(name) if kind == "erp" else lake_dataset(name)


def function_lineage(function: str, result: dict) -> dict:
    """Lineage of a day-level function from its declared datasets and the files its result points to."""
    try:
        ins, outs = FUNCTION_DATASETS.get(function, ([], []))
        inputs, outputs = [_named(r) for r in ins], [_named(r) for r in outs]
        from revcycle.settings import get_settings

        s = get_settings()
        for f in result.get("files", []) if isinstance(result, dict) else []:
            if f.get("file_name"):
                outputs.append(file_dataset(s.raw_zone / "outbound" / "276" / f["file_name"]))
        if function.endswith(":upload") and result.get("file_name"):
            inputs.append(file_dataset(s.raw_zone / "outbound" / "276" / result["file_name"]))
            outputs.append(file_dataset(s.exchange / result["payer_id"] / "outbound" / result["file_name"]))
        if result.get("exceptions_csv"):
            outputs.append(file_dataset(result["exceptions_csv"]))
        counts = {k: v for k, v in result.items() if isinstance(v, int)} if isinstance(result, dict) else {}
        return datasets_lineage(
            function.split(":")[1], inputs, outputs, source=function.split(":")[0], rowCounts=counts
        )
    except Exception:
        log.warning("lineage for %s could not be built", function, exc_info=True)
        return {}


def take(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> dict | None:
    return _STASH.pop(_key(dag_id, task_id, run_id, map_index), None)


def to_operator_lineage(lineage: dict) -> object:
    from airflow.providers.openlineage.extractors import OperatorLineage

    def ds(kind: type, item: dict) -> object:
        (namespace, name), facets = item
        clean = {k: v for k, v in facets.items() if v is not None}
        if kind is InputDataset:
            return InputDataset(namespace=namespace, name=name, facets=clean)
        return OutputDataset(namespace=namespace, name=name, facets=clean)

    return OperatorLineage(
        inputs=[ds(InputDataset, i) for i in lineage.get("inputs", [])],
        outputs=[ds(OutputDataset, o) for o in lineage.get("outputs", [])],
        run_facets={"revcycle": lineage["facet"]} if lineage.get("facet") else {},
    )


def events_for_files(shas: set[str]) -> dict[str, list[dict]]:
    """The OpenLineage events of inbound files (their ``revcycle`` run facet names the sha256), from the
    embedded file transport's log, read once for all of them; they carry counts, codes and dataset names,
    never PHI."""
    from revcycle.settings import get_settings

    path = get_settings().lineage_file
    found: dict[str, list[dict]] = {sha: [] for sha in shas}
    if path.exists() and shas:
        with open(path) as fh:
            for line in fh:
                if '"sha256"' not in line:
                    continue
                event = json.loads(line)
                sha = (event.get("run", {}).get("facets", {}).get("revcycle") or {}).get("sha256")
                if sha in found:
                    found[sha].append(event)
    return found


def events_for_file(sha256: str) -> list[dict]:
    return events_for_files({sha256})[sha256]
