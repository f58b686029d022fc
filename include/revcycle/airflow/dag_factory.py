"""The shapes of the project's DAGs, so DAG files only declare.

- ``ingest_dag``: land, then per file parse -> validate -> publish -> post, then a summary that
  publishes the source's Assets (and optionally one day-level function, e.g. invoice matching).
- ``inquiry_dag``: build the day's 276 files, then upload each.
- ``reconciliation_dag``: one day-level run scheduled on the upstream Assets.

Imports only ``airflow.sdk``, ``pendulum`` and the names in ``revcycle.domain.datasets`` (DAG parse time
stays light); every task body imports
pipeline code at run time, passes sha256 pointers or small dicts only, and records its lineage.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, dag, task, task_group

from revcycle.domain.datasets import OUTBOUND_276, RECON_EXTRACTS, RECONCILIATION_INPUTS, SOURCE_DATASETS, lake_uri


def _deadline(dag_id: str) -> dict:
    """DAG-level Deadline Alert (run queued -> done within the sla.toml minutes) for real deployments.

    Airflow 3.3.2's ``dag.test()`` crashes at the end of a successful run of a DAG that has ``deadline=``
    ('dict' object has no attribute 'hex'), so the embedded runner (``airflow dags test``) sets
    ``REVCYCLE_DEADLINES=off``; the scheduler path (docker-compose) keeps them.
    """
    from revcycle.settings import get_settings

    if not get_settings().deadlines:
        return {}
    import datetime as dt

    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    from revcycle.jobs.sla import deadline_minutes

    minutes = deadline_minutes(dag_id)
    return {
        "deadline": DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=dt.timedelta(minutes=minutes),
            callback=AsyncCallback("revcycle.jobs.sla.deadline_missed", kwargs={"dag_id": dag_id, "minutes": minutes}),
        )
    }


def _policy(
    dag_id: str,
    schedule: object,
    owner: str,
    tags: list[str],
    doc_md: str,
    start_date: dt.datetime | None,
    catchup: bool | None = None,
) -> dict:
    """What every revcycle DAG declares: owner, tags, two retries, one run at a time, docs, a deadline.
    With ``REVCYCLE_SCHEDULES=off`` a DAG runs only when triggered (a cluster replaying a chosen day)."""
    from revcycle.settings import get_settings

    return dict(
        dag_id=dag_id,
        schedule=schedule if get_settings().schedules else None,
        # Off by default (REVCYCLE_CATCHUP=on to turn it on): unpausing a fresh deployment must not queue a
        # run per day since start_date by surprise; missed days are backfilled on purpose.
        catchup=get_settings().catchup if catchup is None else catchup,
        max_active_runs=1,
        start_date=start_date or pendulum.datetime(2026, 11, 1, tz="UTC"),
        tags=["revcycle", *tags],
        default_args={
            "owner": owner,
            "retries": 2,
            "retry_delay": pendulum.duration(seconds=get_settings().retry_delay_seconds),
        },
        params={"business_date": None},
        doc_md=doc_md,
        **_deadline(dag_id),
    )


def _lineage(context: dict, source: str, step: str, result: dict) -> dict:
    """Record a shared step's lineage for the OpenLineage extractor; return the step's pointer unchanged."""
    from revcycle.jobs import lineage

    lineage.record_step(context, source, step, result)
    return result


def _run_day_function(target: str, context: dict) -> dict:
    """Call ``module:function(business_date, run_id)``, mark the outlet events with the day, record lineage."""
    import importlib

    from revcycle.airflow.tasks import asset_name, business_date_of, record_business_date
    from revcycle.jobs import lineage
    from revcycle.pipeline.summary import function_extras

    module, function = target.split(":")
    day = business_date_of(context)
    result = getattr(importlib.import_module(module), function)(day, context["run_id"])
    outlets = getattr(context.get("task"), "outlets", None) or []
    record_business_date(context, day, function_extras(result, [asset_name(a) for a in outlets]))
    lineage.record(context, lineage.function_lineage(target, result))
    return result


def ingest_dag(
    *,
    dag_id: str,
    source: str,
    schedule: str,
    owner: str,
    tags: list[str],
    doc_md: str,
    start_date: dt.datetime | None = None,
    then: str | None = None,
    then_outlets: tuple[str, ...] = (),
):
    """Declare the ingest DAG of one source; the DAG's outlets are its published ``canonical__*`` Assets
    (``revcycle.domain.datasets``, the names the source itself stages).

    ``then`` names a package function ``module:function(business_date, run_id) -> dict`` run once after
    every file is done (e.g. invoice matching), with ``then_outlets`` as its Assets.
    """
    published = [Asset(lake_uri(name)) for name in SOURCE_DATASETS[source]]

    @dag(**_policy(dag_id, schedule, owner, tags, doc_md, start_date))
    def ingest():
        @task
        def land(**context) -> list[str]:
            from revcycle.airflow.tasks import business_date_of
            from revcycle.pipeline import steps

            result = steps.land(source, business_date_of(context), context["run_id"])
            _lineage(context, source, "land", result)
            return result["files"]

        @task_group
        def process_file(sha256: str):
            @task
            def parse(sha256: str, **context) -> dict:
                from revcycle.pipeline import steps

                return _lineage(context, source, "parse", steps.parse(source, sha256, context["run_id"]))

            @task
            def validate(parsed: dict, **context) -> dict:
                from revcycle.pipeline import steps

                return _lineage(
                    context, source, "validate", steps.validate(source, parsed["sha256"], context["run_id"])
                )

            @task
            def publish(validated: dict, **context) -> dict:
                from revcycle.pipeline import steps

                return _lineage(
                    context, source, "publish", steps.publish(source, validated["sha256"], context["run_id"])
                )

            @task
            def post(published: dict, **context) -> dict:
                from revcycle.pipeline import steps

                return _lineage(context, source, "post", steps.post(source, published["sha256"], context["run_id"]))

            return post(publish(validate(parse(sha256))))

        # none_failed: a day with no new files still summarises and still publishes its Asset events.
        @task(outlets=published, trigger_rule="none_failed")
        def summarize(results: list[dict], **context) -> dict:
            from revcycle.airflow.tasks import business_date_of, record_business_date
            from revcycle.jobs import lineage
            from revcycle.pipeline.summary import file_extras, summarize_results

            results = [results] if isinstance(results, dict) else list(results or [])
            record_business_date(context, business_date_of(context), file_extras(results, SOURCE_DATASETS[source]))
            lineage.record(
                context,
                lineage.datasets_lineage(
                    "summarize", [], [lineage.lake_dataset(d) for d in SOURCE_DATASETS[source]], source=source
                ),
            )
            return summarize_results(source, results)

        summary = summarize(process_file.expand(sha256=land()))
        if then:

            @task(
                task_id=then.rsplit(":", 1)[1], outlets=[Asset(uri) for uri in then_outlets], trigger_rule="none_failed"
            )
            def follow_up(_summary: dict, **context) -> dict:
                return _run_day_function(then, context)

            follow_up(summary)

    return ingest()


def inquiry_dag(
    *, dag_id: str, schedule: str, owner: str, tags: list[str], doc_md: str, start_date: dt.datetime | None = None
):
    """Declare the outbound 276 DAG: build one file per payer, then upload each (mapped)."""
    sent = Asset(OUTBOUND_276)

    @dag(**_policy(dag_id, schedule, owner, tags, doc_md, start_date))
    def inquire():
        @task
        def build(**context) -> list[str]:
            from revcycle.airflow.tasks import business_date_of
            from revcycle.jobs import inquiries, lineage

            files = inquiries.build(business_date_of(context), context["run_id"])
            lineage.record(context, lineage.function_lineage("revcycle.jobs.inquiries:build", {"files": files}))
            return [f["file_key"] for f in files if f["file_key"]]

        @task(outlets=[sent])
        def upload(file_key: str, **context) -> dict:
            from revcycle.jobs import inquiries, lineage

            result = inquiries.upload(file_key, context["run_id"])
            lineage.record(context, lineage.function_lineage("revcycle.jobs.inquiries:upload", result))
            return result

        upload.expand(file_key=build())

    return inquire()


def reconciliation_dag(
    *,
    dag_id: str,
    owner: str,
    tags: list[str],
    doc_md: str,
    after: tuple[str, ...] = RECONCILIATION_INPUTS,
    start_date: dt.datetime | None = None,
):
    """Declare the reconciliation DAG: scheduled when every upstream Asset has a new event for the day."""
    from airflow.sdk import AssetAll

    extracts = [Asset(lake_uri(f"recon__{name}")) for name in RECON_EXTRACTS]

    @dag(**_policy(dag_id, AssetAll(*(Asset(uri) for uri in after)), owner, tags, doc_md, start_date, catchup=False))
    def reconcile():
        # inlets: the UI lists reconciliation as the consumer of its inputs even where schedules are off.
        @task(inlets=[Asset(uri) for uri in after], outlets=extracts)
        def reconcile_day(**context) -> dict:
            return _run_day_function("revcycle.jobs.reconciliation:run", context)

        reconcile_day()

    return reconcile()
