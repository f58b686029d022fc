"""The canonical records of one payment (an 835 transaction set, or a FHIR PaymentReconciliation with its claims),
whichever format core mapped them: the remittance source stages, balances and posts them alike."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RemittanceSet:
    """The canonical records of one payment; the envelope fields are the 835's (a FHIR payment fills what it has)."""

    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    version: str
    remittance: dict = field(default_factory=dict)
    claim_payments: list[dict] = field(default_factory=list)
    service_line_payments: list[dict] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)
    provider_adjustments: list[dict] = field(default_factory=list)
    remarks: list[dict] = field(default_factory=list)
    segment_count: int = 0

    def records(self) -> dict[str, list[dict]]:
        """The set's records by canonical dataset name."""
        return {
            "canonical__remittance": [self.remittance],
            "canonical__claim_payment": self.claim_payments,
            "canonical__service_line_payment": self.service_line_payments,
            "canonical__adjustment": self.adjustments,
            "canonical__provider_adjustment": self.provider_adjustments,
            "canonical__remark": self.remarks,
        }
