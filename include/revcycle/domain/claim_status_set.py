"""The claim status events of one response (a 277 transaction set, or a FHIR export's ClaimResponse resources),
whichever format core mapped them: the claim status source stages, validates and posts them alike."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StatusSet:
    """The events of one response; the envelope fields are the 277's (a FHIR export fills what it has)."""

    interchange_sender: str
    interchange_control: str
    group_control: str
    transaction_control: str
    implementation: str
    events: list[dict] = field(default_factory=list)
    claims: int = 0
