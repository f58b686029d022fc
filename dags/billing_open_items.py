"""
### Open accounts receivable (billing system CSV snapshot)

Lands the billing system's daily open-A/R snapshot (``billing/*.csv``, column
contract in ``revcycle.sources.open_items``), validates it with the open-item
suite, publishes ``canonical__claim_open_item`` (member ids tokenised, names
and birth dates dropped) and upserts ``erp.ar_open_item``, from which the 276
claim status inquiries are chosen.
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag

billing_open_items = ingest_dag(
    dag_id="billing_open_items",
    source="open_items",
    schedule="30 5 * * *",
    owner="revenue-integration",
    tags=["claim-status", "billing"],
    doc_md=__doc__,
)
