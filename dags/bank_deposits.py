"""
### Bank deposits (the bank's deposit report)

Lands the bank's daily deposit report (CSV, contract in
``revcycle.sources.bank_deposits``), validates it and publishes
``canonical__bank_deposit`` for cash reconciliation. Nothing is posted to the
ERP: deposits are what the ERP cash receipts are checked against.
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag

bank_deposits = ingest_dag(
    dag_id="bank_deposits",
    source="bank_deposits",
    schedule="45 6 * * *",
    owner="finance-integration",
    tags=["reconciliation", "bank"],
    doc_md=__doc__,
)
