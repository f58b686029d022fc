"""
### Reconciliation and finance extracts

Runs when the day's remittance, bank deposits, claim status, open A/R, supply
usage and invoice matching have all published (Asset schedule; the business
day travels in the asset events). Matches cash (835 payment ↔ bank deposit ↔
ERP receipt), claims (835 claim payment ↔ ERP application ↔ 277 status ↔ open
A/R aging, reversals, denials) and supply (usage ↔ supplier invoice), writes
the extracts to the lake and as CSV for finance with control totals in
``ops.recon_run``, and updates the owned exception queue
(``ops.exception_item``), closing items a later day resolves.
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import reconciliation_dag

reconciliation = reconciliation_dag(
    dag_id="reconciliation",
    owner="finance-integration",
    tags=["reconciliation", "finance"],
    doc_md=__doc__,
)
