"""
### Claim status over FHIR (Bulk Data export)

Exports a payer's new claim statuses from its FHIR R4 server (`$export` of ClaimResponse, authorised with
SMART Backend Services), incrementally from the last export whose files all landed.  Each export lands in the
raw zone as one NDJSON file, then goes through the steps every claim status goes through: parse (each resource
checked against FHIR R4, each response's X12 status codes read from its adjudications; a bad one is rejected
with its reason, the rest go on), validate with the claim status suite, publish
``canonical__claim_status_event`` to the lake, and post the history plus the latest status per claim to the
ERP, where it meets the payments (payer claim control number, patient control number).
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag

fhir_claim_status = ingest_dag(
    dag_id="fhir_claim_status",
    source="fhir_claim_status",
    schedule="40 6 * * *",
    owner="revenue-integration",
    tags=["claim-status", "fhir-r4", "bulk-data"],
    doc_md=__doc__,
)
