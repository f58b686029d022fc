"""The FHIR claim status core: ClaimResponse resources mapped to the events the 277 route makes for the same
claims, keys from business identity, and each kind of bad response refused with its own reason."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.domain.phi import tokenise
from revcycle.fhir.claim_status import map_statuses
from revcycle.fhir.ndjson import read_resources
from revcycle.sources.base import ParseContext
from revcycle.sources.fhir_claim_status import FHIR_TYPES, parse_fhir_claim_status
from revcycle.synthetic import claim_status_277
from revcycle.synthetic.identities import PAYERS
from revcycle.x12.claim_status import read_claim_status
from tests.unit.fhir.test_fhir_remittance import _lines, _write

DAY = dt.date(2026, 12, 2)
# What both routes carry for a claim-level status; the rest is the 277's envelope or what FHIR has no place for.
COMPARED = (
    "level",
    "claim_seq",
    "composite_seq",
    "payer_id",
    "payer_name",
    "provider_id",
    "member_token",
    "patient_control_number",
    "payer_claim_control_number",
    "category_code",
    "status_code",
    "entity_code",
    "status_date",
    "charge_amount",
    "payment_amount",
    "adjudication_date",
    "check_date",
    "check_number",
    "line_seq",
    "procedure_code",
)


def _candidates(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(60):
        payer = PAYERS[i % len(PAYERS)]
        status = rng.choice(["1", "2", "4", "1"])
        charge = Decimal(rng.randint(5000, 90000)) / 100
        out.append(
            {
                "payer": payer.payer_id,
                "pcn": f"PCN{i:08d}",
                "icn": f"ICN{i:010d}",
                "charge": str(charge),
                "paid": "0" if status == "4" else str(charge - Decimal("12.34")),
                "status": status,
                "service_date": "20261020",
            }
        )
    return out


def _both_routes(tmp_path: Path) -> tuple[Path, Path]:
    """The same claims answered as 277s by every payer, then as ClaimResponses (same seed, same draws)."""
    x12, fhir = tmp_path / "x12", tmp_path / "fhir"
    for root, payers in ((x12, ()), (fhir, tuple(p.payer_id for p in PAYERS))):
        (root / "claim_status").mkdir(parents=True)
        claim_status_277.write_277_files(
            root / "claim_status", root, DAY, random.Random(9), _candidates(), 100, None, payers
        )
    return x12, fhir


def test_claim_responses_map_to_the_events_of_the_same_277(tmp_path):
    x12, fhir = _both_routes(tmp_path)
    assert not list((fhir / "claim_status").glob("*.277"))
    compared = 0
    for payer in PAYERS:
        (path,) = (x12 / "claim_status").glob(f"status_{payer.payer_id}_*.277")
        events = [e for _, sset in read_claim_status(path) for e in sset.events]
        mapped = map_statuses(
            read_resources(fhir / "fhir_payer" / payer.payer_id / DAY.isoformat() / "ClaimResponse.ndjson")
        )
        assert mapped.rejected == [] and mapped.status_set is not None
        assert mapped.status_set.claims == len(events)
        got = mapped.status_set.events
        assert [tuple(e[c] for c in COMPARED) for e in got] == [tuple(e[c] for c in COMPARED) for e in events]
        compared += len(got)
        # Pending, denied and paid statuses all came through.
        assert {e["category_code"] for e in got} >= {"P1", "F1"}
        # Tokenised as the 277 route tokenises: the same member, the same token; never the id itself.
        assert all(e["member_token"] and not e["member_token"].startswith("ZZ") for e in got)
    assert compared > 60


def test_the_same_response_exported_again_is_the_same_event(tmp_path):
    _, fhir = _both_routes(tmp_path)
    path = fhir / "fhir_payer" / PAYERS[0].payer_id / DAY.isoformat() / "ClaimResponse.ndjson"
    first = map_statuses(read_resources(path)).status_set.events
    resources = _lines(path)
    again = map_statuses(read_resources(_write(tmp_path / "again.ndjson", list(reversed(resources))))).status_set
    assert {e["claim_status_event_key"] for e in first} == {e["claim_status_event_key"] for e in again.events}
    # The same claim answered on a later day is a new event.
    later = [{**r, "id": r["id"] + "-later", "created": "2026-12-03"} for r in resources]
    moved = map_statuses(read_resources(_write(tmp_path / "later.ndjson", later))).status_set
    assert not {e["claim_status_event_key"] for e in first} & {e["claim_status_event_key"] for e in moved.events}


def test_each_bad_response_is_refused_with_its_reason_and_the_rest_goes_on(tmp_path):
    _, fhir = _both_routes(tmp_path)
    path = fhir / "fhir_payer" / PAYERS[1].payer_id / DAY.isoformat() / "ClaimResponse.ndjson"
    good = _lines(path)
    member = good[0]["patient"]["identifier"]["value"]
    no_payer = {**good[1], "id": "no-payer", "insurer": {"display": "NO ID"}}
    no_status = {**good[2], "id": "no-status", "adjudication": []}
    no_currency = {**good[3], "id": "no-currency"}
    no_currency["total"] = [{**no_currency["total"][0], "amount": {"value": Decimal("10.00")}}]
    not_ours = {"resourceType": "PaymentReconciliation", "id": "pr-1", "status": "active"}
    lines = [good[0], no_payer, no_status, no_currency, not_ours, good[0], "{nope", *good[4:]]
    mapped = map_statuses(read_resources(_write(tmp_path / "mixed.ndjson", lines), FHIR_TYPES))
    assert [(r.line, r.reason) for r in mapped.rejected] == [
        (2, "MISSING_REQUIRED_ELEMENT"),
        (3, "NO_STATUS"),
        (4, "AMOUNT_WITHOUT_CURRENCY"),
        (5, "UNKNOWN_RESOURCE_TYPE"),
        (6, "DUPLICATE_RESOURCE_ID"),
        (7, "NOT_JSON"),
    ]
    assert mapped.status_set.claims == 1 + len(good) - 4
    for r in mapped.rejected:
        assert member not in r.detail and tokenise(member) not in r.detail, r


def test_the_source_keeps_rejected_lines_in_quarantine_and_refuses_a_file_with_nothing_mapped(tmp_path):
    from revcycle.adapters.storage import StagingWriter
    from revcycle.errors import MappingError

    _, fhir = _both_routes(tmp_path)
    good = _lines(fhir / "fhir_payer" / PAYERS[2].payer_id / DAY.isoformat() / "ClaimResponse.ndjson")
    member = good[0]["patient"]["identifier"]["value"]
    bad = {**good[0], "id": "bad", "adjudication": []}
    ctx = ParseContext(
        "ab" * 32, "x.ndjson", DAY, dt.datetime(2026, 12, 2, 7, tzinfo=dt.UTC), "test", None, tmp_path / "rej"
    )
    out = StagingWriter(tmp_path / "staged")
    result = parse_fhir_claim_status(_write(tmp_path / "one-bad.ndjson", [bad, *good]), ctx, out)
    assert result.control_totals["claims"] == len(good)
    assert result.control_totals["rejected"] == [{"line": 1, "resource_type": "ClaimResponse", "reason": "NO_STATUS"}]
    kept = sorted(p.name for p in (tmp_path / "rej").iterdir())
    assert kept == [f"{'ab' * 8}_000001.ndjson", f"{'ab' * 8}_000001.reason.json"]
    assert member in (tmp_path / "rej" / kept[0]).read_text()  # the line itself, in quarantine only
    assert member not in str(result.control_totals) and member not in str(result.findings)
    with pytest.raises(MappingError) as refused:
        parse_fhir_claim_status(_write(tmp_path / "all-bad.ndjson", [bad]), ctx, StagingWriter(tmp_path / "s2"))
    assert refused.value.reason == "ALL_RESOURCES_REJECTED"
