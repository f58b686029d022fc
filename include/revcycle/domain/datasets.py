"""Dataset and Asset names, defined once: sources stage and publish these datasets, DAGs declare these Assets.

Light on purpose (no imports): DAG files read it at parse time.  Datasets are named ``<layer>__<entity>``.
"""

from __future__ import annotations

# The canonical datasets each source publishes (and validates with the suite of the same name).
SOURCE_DATASETS: dict[str, tuple[str, ...]] = {
    "remittance": (
        "canonical__remittance",
        "canonical__claim_payment",
        "canonical__service_line_payment",
        "canonical__adjustment",
        "canonical__provider_adjustment",
        "canonical__remark",
    ),
    "claim_status": ("canonical__claim_status_event",),
    "open_items": ("canonical__claim_open_item",),
    "payer_acks": ("canonical__x12_acknowledgement",),
    "supply_usage": ("canonical__supply_usage",),
    "supplier_invoices": ("canonical__supplier_invoice_line",),
    "bank_deposits": ("canonical__bank_deposit",),
}
# A payer's FHIR exports fill the remittance and claim status datasets (the same business, another route).
SOURCE_DATASETS["fhir_remittance"] = SOURCE_DATASETS["remittance"]
SOURCE_DATASETS["fhir_claim_status"] = SOURCE_DATASETS["claim_status"]
# An EHR's FHIR export fills the supply usage dataset (the OR's charges, another route).
SOURCE_DATASETS["fhir_supply_usage"] = SOURCE_DATASETS["supply_usage"]


def publishers(dataset: str) -> tuple[str, ...]:
    """The sources that publish a canonical dataset."""
    return tuple(source for source, datasets in SOURCE_DATASETS.items() if dataset in datasets)


# The reconciliation's extracts (lake ``recon__<name>``, CSV in outbound/finance/<day>/).
RECON_EXTRACTS = ("cash", "claims", "denials", "supply", "exceptions")


def lake_uri(dataset: str) -> str:
    """The Asset of a lake dataset."""
    return f"file://revcycle/lake/{dataset}"


# Assets that are not lake datasets: the invoice match in the ERP, the 276 files sent to payers.
INVOICE_MATCH = "file://revcycle/erp/invoice_match"
OUTBOUND_276 = "file://revcycle/outbound/x12_276"
# The reconciliation runs when each of these has a new event for the day.
RECONCILIATION_INPUTS = (
    lake_uri("canonical__remittance"),
    lake_uri("canonical__bank_deposit"),
    lake_uri("canonical__claim_status_event"),
    lake_uri("canonical__claim_open_item"),
    lake_uri("canonical__supply_usage"),
    INVOICE_MATCH,
)
