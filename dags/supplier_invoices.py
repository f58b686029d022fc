"""
### Supplier invoices and consignment matching

Lands supplier invoice files (CSV, contract in
``revcycle.sources.supplier_invoices``), normalises their items through the
item master, validates, publishes ``canonical__supplier_invoice_line`` and
posts ``supplier_invoice_line``; then matches every invoice line to recorded
consignment usage (serial, else lot; quantity; price within the item's
tolerance) into ``erp.invoice_match`` and writes the exception list
(invoice without usage, usage without invoice, quantity or price mismatch).
"""

# Airflow DAG file (the words "airflow" and "dag" let safe-mode DAG discovery parse it).
from revcycle.airflow.dag_factory import ingest_dag
from revcycle.domain.datasets import INVOICE_MATCH

supplier_invoices = ingest_dag(
    dag_id="supplier_invoices",
    source="supplier_invoices",
    schedule="0 8 * * *",
    owner="supply-chain-integration",
    tags=["supply", "invoices"],
    doc_md=__doc__,
    then="revcycle.jobs.supply_match:run",
    then_outlets=(INVOICE_MATCH,),
)
