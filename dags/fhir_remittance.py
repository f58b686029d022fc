"""
### Remittance over FHIR (Bulk Data export)

Exports a payer's new payments from its FHIR R4 server (`$export` of PaymentReconciliation with its
ExplanationOfBenefit resources, authorised with SMART Backend Services), incrementally from the
last export whose files all landed.  Each export lands in the raw zone as one NDJSON file, then goes through the
steps every remittance goes through: parse (each resource checked against FHIR R4; a bad one is rejected with
its reason, the rest go on), validate with the same Great Expectations suites, publish canonical Parquet, and
post cash receipts and balanced journals to the ERP.

The same payment sent as X12 and as FHIR is one business event: it is posted once.
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag

fhir_remittance = ingest_dag(
    dag_id="fhir_remittance",
    source="fhir_remittance",
    schedule="10 6 * * *",
    owner="revenue-integration",
    tags=["remittance", "fhir-r4", "bulk-data"],
    doc_md=__doc__,
)
