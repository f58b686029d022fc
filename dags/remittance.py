"""
### Remittance (X12 835 ERA)

Lands new 835 files from the payer/clearinghouse SFTP (or the local inbound
folder), then for each file: parse to canonical records with envelope checks
and a 999, validate with the Great Expectations suites (three balancing levels
to the cent), publish canonical Parquet to the lake, and post cash receipts,
receipt applications and balanced journals to the ERP.  A file that fails a
critical check is quarantined with its reason; the others go on.

Replays are safe: files are known by sha256 and ERP rows by business keys.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task, task_group

SOURCE = "remittance"
PUBLISHED = [Asset(f"file://revcycle/lake/canonical__{name}") for name in
             ("remittance", "claim_payment", "service_line_payment", "adjustment", "provider_adjustment",
              "remark")]


@dag(
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,
    tags=["revcycle", "remittance", "x12-835"],
    default_args={"owner": "revenue-integration", "retries": 2, "retry_delay": pendulum.duration(minutes=2)},
    params={"business_date": None},
    doc_md=__doc__,
)
def remittance():
    @task
    def land(**context) -> list[str]:
        from revcycle.airflow_tasks import business_date_of
        from revcycle.pipeline import steps

        return steps.land(SOURCE, business_date_of(context), context["run_id"])["files"]

    @task_group
    def process_file(sha256: str):
        @task
        def parse(sha256: str, **context) -> dict:
            from revcycle.pipeline import steps
            return steps.parse(SOURCE, sha256, context["run_id"])

        @task
        def validate(parsed: dict, **context) -> dict:
            from revcycle.pipeline import steps
            return steps.validate(SOURCE, parsed["sha256"], context["run_id"])

        @task
        def publish(validated: dict, **context) -> dict:
            from revcycle.pipeline import steps
            return steps.publish(SOURCE, validated["sha256"], context["run_id"])

        @task
        def post(published: dict, **context) -> dict:
            from revcycle.pipeline import steps
            return steps.post(SOURCE, published["sha256"], context["run_id"])

        return post(publish(validate(parse(sha256))))

    @task(outlets=PUBLISHED)
    def summarize(results: list[dict], **context) -> dict:
        from revcycle.pipeline.summary import summarize_results
        return summarize_results(SOURCE, list(results))

    summarize(process_file.expand(sha256=land()))


remittance()
