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

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag

remittance = ingest_dag(
    dag_id="remittance",
    source="remittance",
    schedule="0 6 * * *",
    owner="revenue-integration",
    tags=["remittance", "x12-835"],
    doc_md=__doc__,
)
