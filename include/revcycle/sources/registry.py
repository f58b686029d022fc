"""The sources the shared steps know, by name."""

from __future__ import annotations

from revcycle.sources.base import Source


def sources() -> dict[str, Source]:
    from revcycle.sources.bank_deposits import BANK_DEPOSITS
    from revcycle.sources.claim_status import CLAIM_STATUS
    from revcycle.sources.fhir_claim_status import FHIR_CLAIM_STATUS
    from revcycle.sources.fhir_remittance import FHIR_REMITTANCE
    from revcycle.sources.fhir_supply_usage import FHIR_SUPPLY_USAGE
    from revcycle.sources.open_items import OPEN_ITEMS
    from revcycle.sources.payer_acks import PAYER_ACKS
    from revcycle.sources.remittance import REMITTANCE
    from revcycle.sources.supplier_invoices import SUPPLIER_INVOICES
    from revcycle.sources.supply_usage import SUPPLY_USAGE

    return {
        s.name: s
        for s in (
            REMITTANCE,
            FHIR_REMITTANCE,
            CLAIM_STATUS,
            FHIR_CLAIM_STATUS,
            OPEN_ITEMS,
            PAYER_ACKS,
            SUPPLY_USAGE,
            FHIR_SUPPLY_USAGE,
            SUPPLIER_INVOICES,
            BANK_DEPOSITS,
        )
    }


def get_source(name: str) -> Source:
    try:
        return sources()[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(sorted(sources()))}") from None
