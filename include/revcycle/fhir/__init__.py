"""HL7 FHIR R4: Bulk Data NDJSON resources read, checked and mapped to the canonical records (pure, no Airflow)."""
