"""
### Claim status inquiries (X12 276 out)

Chooses the claims of the latest open-A/R snapshot that have waited
``REVCYCLE_INQUIRY_AFTER_DAYS`` (21) days with no 835 payment and no final or
rejected 277 status (and were not asked in the last ``REVCYCLE_REINQUIRE_DAYS``),
writes one 005010X212 276 per payer with envelope control numbers from the
business day, records the inquiries in ``erp.claim_inquiry`` and uploads each
file to the payer's SFTP outbound folder (``include/config/trading_partners.toml``).
The payers' 999s come back through the ``payer_acks`` DAG and are matched to
the inquiries by GS06/ST02.
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import inquiry_dag

claim_status_inquiry = inquiry_dag(
    dag_id="claim_status_inquiry",
    schedule="0 7 * * *",
    owner="revenue-integration",
    tags=["claim-status", "x12-276"],
    doc_md=__doc__,
)
