"""FHIR R4 NDJSON (the Bulk Data output format) read one resource a line, each checked on its own.

A line that is not a resource is rejected with a specific reason and the file goes on: one bad line never
stops its file.  Structure is checked against the R4 resource definitions of ``fhir.resources`` (its R4B
models: R4B changed no element the resources read here use).  Reasons and details name line numbers,
resource types and element paths, never a value (a value could be a patient's).

Money is exact: numbers are parsed as ``Decimal`` straight from the JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# What the canonical mappings read; any other resourceType is refused as unknown to this pipeline.  Each
# source reads its own (a ClaimResponse is a claim status, not a remittance line: its items carry no service
# codes or dates).  An OperationOutcome is a server's message, counted wherever it comes.
KNOWN_TYPES = frozenset(
    {
        "ExplanationOfBenefit",
        "PaymentReconciliation",
        "ClaimResponse",
        "ChargeItem",
        "SupplyDelivery",
        "Device",
        "OperationOutcome",
    }
)
MAX_LINE = 16 << 20  # one resource larger than this is refused, not read


@dataclass(frozen=True)
class Rejected:
    """A line refused with its reason: the line number, the type and id it claimed (ids are opaque, not PHI)."""

    line: int
    resource_type: str
    resource_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Resource:
    line: int
    body: dict

    @property
    def resource_type(self) -> str:
        return self.body["resourceType"]

    @property
    def id(self) -> str:
        return str(self.body.get("id") or "")


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their 1-based numbers; a line over MAX_LINE is yielded cut (and then refused)."""
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, line[: MAX_LINE + 1]


def _parse(number: int, line: bytes, known: frozenset[str]) -> Resource | Rejected:
    if len(line) > MAX_LINE:
        return Rejected(number, "", "", "RESOURCE_TOO_LARGE", f"line {number} is over {MAX_LINE >> 20} MiB")
    try:
        body = json.loads(line, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return Rejected(number, "", "", "NOT_JSON", f"line {number} is not one JSON object")
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        return Rejected(number, "", "", "NOT_A_RESOURCE", f"line {number} has no resourceType")
    rtype, rid = body["resourceType"], str(body.get("id") or "")[:64]
    if rtype not in known:
        return Rejected(number, rtype[:40], rid, "UNKNOWN_RESOURCE_TYPE", f"line {number}: {rtype[:40]!r}")
    problem = structure_problem(body)
    if problem:
        reason, where = problem
        return Rejected(number, rtype, rid, reason, f"line {number} {rtype}: {where}")
    return Resource(number, body)


def structure_problem(body: dict) -> tuple[str, str] | None:
    """(reason, element path) when the resource breaks the R4 structure, else None.  Pydantic's own message
    is never used: it quotes the input value.  A resource the compiled tables vouch for skips the model (the
    same verdict, twenty times faster: ``revcycle.fhir.structure``); any other is validated by it."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    from revcycle.fhir.structure import surely_valid

    if surely_valid(body):
        return None

    try:
        get_fhir_model_class(body["resourceType"]).model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__") or "(resource)"
        kind = str(first.get("type", ""))
        reason = "MISSING_REQUIRED_ELEMENT" if "missing" in kind else "BAD_ELEMENT"
        return reason, f"{path} ({kind})"
    return None


def read_resources(path: Path, types: Iterable[str] = KNOWN_TYPES) -> Iterator[Resource | Rejected]:
    """Every line of the file as a checked resource or a rejection (a type not among ``types``, or an
    OperationOutcome, is ``UNKNOWN_RESOURCE_TYPE``); a second resource of the same type and id in one file is
    refused (``DUPLICATE_RESOURCE_ID``): an export holds each resource once."""
    known = frozenset(types) | {"OperationOutcome"}
    seen: set[tuple[str, str]] = set()
    for number, line in read_lines(path):
        item = _parse(number, line, known)
        if isinstance(item, Resource) and item.id:
            identity = (item.resource_type, item.id)
            if identity in seen:
                item = Rejected(
                    number, item.resource_type, item.id, "DUPLICATE_RESOURCE_ID", f"line {number}: id seen already"
                )
            else:
                seen.add(identity)
        yield item
