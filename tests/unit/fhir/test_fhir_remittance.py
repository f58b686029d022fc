"""The FHIR core: NDJSON lines checked one by one against R4, payments mapped to the records the 835 route
makes for the same payments, and each kind of bad resource refused with its own reason (never a value)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.fhir.ndjson import Rejected, Resource, read_resources
from revcycle.fhir.remittance import map_payments
from revcycle.synthetic import fhir_remittance, remittance_835
from revcycle.synthetic.identities import PAYERS
from revcycle.x12.remittance import read_remittances

DAY = dt.date(2026, 12, 2)
# What only an 835 has (its envelope) or what the FHIR payment does not carry; everything else must be equal.
ENVELOPE_ONLY = {
    "interchange_sender_id",
    "interchange_control_number",
    "group_control_number",
    "transaction_control_number",
    "implementation_version",
    "payment_format",
    "claim_filing_indicator",
    "facility_type_code",
    "claim_frequency_code",
}


def _psets(payer, claims=300, seed=7):
    return list(remittance_835.payment_sets(random.Random(seed), payer, DAY, 1, claims, itertools.count(1)))


def _export(tmp_path: Path, payer, psets) -> Path:
    """One export file as the bulk transport lands it: the PaymentReconciliation output, then the EOB output."""
    folder = tmp_path / "store"
    fhir_remittance.write_payments(folder, payer, DAY, psets)
    out = tmp_path / "export.ndjson"
    out.write_bytes(b"".join((folder / name).read_bytes() for name in fhir_remittance.FILES))
    return out


@pytest.mark.parametrize("payer", PAYERS, ids=lambda p: p.name.split()[0].lower())
def test_fhir_payments_map_to_the_records_of_the_same_835(tmp_path, payer):
    psets = _psets(payer)
    remittance_835.write_835_file(tmp_path / "day.835", payer, DAY, [psets], 100)
    x12 = [rset for _, rset in read_remittances(tmp_path / "day.835")]
    mapped = map_payments(read_resources(_export(tmp_path, payer, psets)))
    assert mapped.rejected == [] and len(mapped.sets) == len(x12) == len(psets)
    compared = 0
    for a, b in zip(x12, mapped.sets, strict=True):
        for name, rows in a.records().items():
            other = b.records()[name]
            assert len(other) == len(rows), name
            for x, y in zip(rows, other, strict=True):
                assert {k: v for k, v in x.items() if k not in ENVELOPE_ONLY} == {
                    k: v for k, v in y.items() if k not in ENVELOPE_ONLY
                }, name
                compared += 1
    assert compared > 500
    # The same payment from either route has one key: the exclusivity check sees it as one business event.
    assert [s.remittance["remittance_key"] for s in mapped.sets] == [s.remittance["remittance_key"] for s in x12]
    assert all(s.remittance["payment_amount"] == p.bpr02 for s, p in zip(mapped.sets, psets, strict=True))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()]


def _write(path: Path, resources: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else fhir_remittance.dumps(r)) + "\n" for r in resources))
    return path


def test_each_bad_resource_is_refused_with_its_reason_and_the_rest_goes_on(tmp_path):
    payer = PAYERS[1]
    psets = _psets(payer, claims=900)
    assert len(psets) == 3
    resources = _lines(_export(tmp_path, payer, psets))
    prs = [r for r in resources if r["resourceType"] == "PaymentReconciliation"]
    eobs = [r for r in resources if r["resourceType"] == "ExplanationOfBenefit"]
    member = eobs[0]["patient"]["identifier"]["value"]
    # Payment 2: one of its claims' amounts has no currency.  Payment 3: a detail names a missing claim.
    second = next(e for e in eobs if e["id"].startswith(f"eob-{psets[1].trace}-"))
    del second["payment"]["amount"]["currency"]
    prs[2]["detail"][0]["response"]["reference"] = "ExplanationOfBenefit/not-in-this-export"
    bad = [
        "{not json",
        '{"id": "x"}',
        {"resourceType": "Patient", "id": "p1", "name": [{"family": "SYNTHALDER"}]},
        {"resourceType": "PaymentReconciliation", "id": "pr-incomplete", "status": "active"},
        {**prs[0], "id": "pr-bad-date", "paymentDate": "yesterday"},
    ]
    export = _write(tmp_path / "mixed.ndjson", [prs[0], *bad, prs[1], prs[2], *eobs])
    mapped = map_payments(read_resources(export))
    reasons = {(r.line, r.reason) for r in mapped.rejected}
    assert {
        (2, "NOT_JSON"),
        (3, "NOT_A_RESOURCE"),
        (4, "UNKNOWN_RESOURCE_TYPE"),
        (5, "MISSING_REQUIRED_ELEMENT"),
        (6, "BAD_ELEMENT"),
        (7, "AMOUNT_WITHOUT_CURRENCY"),
        (8, "BAD_REFERENCE"),
    } <= reasons, reasons
    # One bad line never stops its file: the first payment is mapped whole.
    assert [s.remittance["trace_number"] for s in mapped.sets] == [psets[0].trace]
    assert mapped.sets[0].remittance["payment_amount"] == psets[0].bpr02
    # Details name lines, types and element paths, never a value.
    for r in mapped.rejected:
        assert member not in r.detail and "SYNTH" not in r.detail, r


def test_a_duplicate_id_in_one_export_is_refused(tmp_path):
    payer = PAYERS[0]
    resources = _lines(_export(tmp_path, payer, _psets(payer, claims=20)))
    eob = next(r for r in resources if r["resourceType"] == "ExplanationOfBenefit")
    items = list(read_resources(_write(tmp_path / "dup.ndjson", [*resources, eob])))
    assert isinstance(items[-1], Rejected) and items[-1].reason == "DUPLICATE_RESOURCE_ID"
    assert all(isinstance(i, Resource) for i in items[:-1])
    mapped = map_payments(items)
    assert len(mapped.sets) == 1 and [r.reason for r in mapped.rejected] == ["DUPLICATE_RESOURCE_ID"]


def test_a_claim_no_payment_names_is_reported_and_a_mismatched_detail_refuses_its_payment(tmp_path):
    payer = PAYERS[3]
    resources = _lines(_export(tmp_path, payer, _psets(payer, claims=30)))
    pr = next(r for r in resources if r["resourceType"] == "PaymentReconciliation")
    orphan = pr["detail"].pop()  # the last claim: paid by no payment now
    assert orphan["type"]["coding"][0]["code"] in ("payment", "adjustment")
    mapped = map_payments(read_resources(_write(tmp_path / "orphan.ndjson", resources)))
    if orphan["type"]["coding"][0]["code"] == "payment":
        assert [r.reason for r in mapped.rejected] == ["NO_PAYMENT"]
    pr["detail"][0]["amount"]["value"] = Decimal("0.01")
    mapped = map_payments(read_resources(_write(tmp_path / "mismatch.ndjson", resources)))
    assert mapped.sets == [] and "PAYMENT_DETAIL_MISMATCH" in {r.reason for r in mapped.rejected}
