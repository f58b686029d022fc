"""The FHIR supply core: ChargeItem resources with their Devices mapped to the usage rows the HL7 DFT route
makes for the same usage, and each kind of bad charge refused with its own reason (never a value)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.adapters.storage import StagingWriter
from revcycle.errors import MappingError
from revcycle.fhir import supply as fs
from revcycle.fhir.ndjson import read_resources
from revcycle.fhir.supply import map_usage
from revcycle.hl7.dft import map_dft
from revcycle.hl7.reader import read_messages
from revcycle.sources.base import ParseContext
from revcycle.sources.fhir_supply_usage import FHIR_TYPES, parse_fhir_supply
from revcycle.sources.supply_usage import finish_usage
from revcycle.synthetic import fhir_supply, supply
from tests.unit.fhir.test_fhir_remittance import _lines, _write

DAY = dt.date(2026, 12, 2)
# Where each route names its own message or row; FT1-25 (a Procedure in FHIR) is not read from a charge.
ROUTE_ONLY = {"usage_key", "source_format", "message_control_id", "line_seq", "ft1_set_id", "procedure_code"}


def _both_routes(tmp_path: Path, messages: int = 60) -> tuple[Path, Path]:
    x, f = tmp_path / "hl7", tmp_path / "fhir"
    for root, ehr in ((x, False), (f, True)):
        for sub in ("supply", "invoices"):
            (root / sub).mkdir(parents=True)
        supply.write_supply_files(root, DAY, random.Random(11), messages, fhir_share=1.0 if ehr else 0.0)
    return x, fhir_supply.day_folder(f, DAY)


def _export(folder: Path, out: Path) -> Path:
    out.write_bytes(b"".join((folder / name).read_bytes() for name in fhir_supply.FILES))
    return out


def test_charge_items_map_to_the_rows_of_the_same_dft_messages(tmp_path):
    x, folder = _both_routes(tmp_path)
    assert not list((tmp_path / "fhir" / "supply").glob("*.hl7"))
    dft = [row for p in sorted((x / "supply").glob("*.hl7")) for m in read_messages(p) for row in map_dft(m)]
    mapped = map_usage(read_resources(_export(folder, tmp_path / "export.ndjson")))
    assert mapped.rejected == [] and len(mapped.rows) == len(dft) > 40
    # Compared as the source stages them: normalised against the item master (a FHIR charge has no implant or
    # consignment flag of its own: the master's, which the synthetic ZIM also carries).
    assert {r["implant_flag"] for r in mapped.rows} == {None} != {r["implant_flag"] for r in dft}
    dft = [finish_usage(r, r["transaction_date"]) for r in dft]
    rows = [finish_usage(r, r["transaction_date"]) for r in mapped.rows]
    columns = sorted(set(dft[0]) - ROUTE_ONLY)
    for a, b in zip(dft, rows, strict=True):
        assert {c: b[c] for c in columns} == {c: a[c] for c in columns}
    assert {r["item_status"] for r in rows} == {"mapped"}
    implants = [r for r in mapped.rows if r["serial"]]
    assert implants and all(r["lot"] and r["expiry_date"] and r["gtin"] for r in implants)
    assert all(r["patient_token"] and r["encounter_token"] and r["case_id"] for r in mapped.rows)


def test_each_bad_charge_is_refused_with_its_reason_and_the_rest_goes_on(tmp_path):
    _, folder = _both_routes(tmp_path, messages=20)
    resources = _lines(_export(folder, tmp_path / "export.ndjson"))
    charges = [r for r in resources if r["resourceType"] == "ChargeItem"]
    devices = [r for r in resources if r["resourceType"] == "Device"]
    mrn = charges[0]["subject"]["identifier"]["value"]
    bad = [
        {**charges[0], "id": "no-id", "identifier": []},
        {**charges[1], "id": "error", "status": "entered-in-error"},
        {**charges[2], "id": "no-device", "productReference": {"reference": "Device/not-here"}},
        {**charges[3], "id": "no-currency", "priceOverride": {"value": Decimal("1.00")}},
        {"resourceType": "ClaimResponse", "id": "cr"},
    ]
    lines = [*bad, *charges[4:], *devices]
    mapped = map_usage(read_resources(_write(tmp_path / "mixed.ndjson", lines), FHIR_TYPES))
    assert [(r.line, r.reason) for r in mapped.rejected] == [
        (1, "MISSING_REQUIRED_ELEMENT"),
        (2, "NOT_A_CHARGE"),
        (3, "BAD_REFERENCE"),
        (4, "AMOUNT_WITHOUT_CURRENCY"),
        (5, "UNKNOWN_RESOURCE_TYPE"),
    ]
    assert len(mapped.rows) == len(charges) - 4
    for r in mapped.rejected:
        assert mrn not in r.detail, r


def test_the_source_applies_the_dft_rules_and_keeps_what_it_rejects(tmp_path):
    _, folder = _both_routes(tmp_path, messages=20)
    resources = _lines(_export(folder, tmp_path / "export.ndjson"))
    charges = [r for r in resources if r["resourceType"] == "ChargeItem"]
    devices = [r for r in resources if r["resourceType"] == "Device"]
    mrn = charges[0]["subject"]["identifier"]["value"]
    zero = {**charges[0], "quantity": {"value": 0}}  # the message rule a DFT's FT1 meets: BAD_QUANTITY
    ctx = ParseContext(
        "cd" * 32, "x.ndjson", DAY, dt.datetime(2026, 12, 2, 7, tzinfo=dt.UTC), "t", None, tmp_path / "rej"
    )
    result = parse_fhir_supply(
        _write(tmp_path / "one-bad.ndjson", [zero, *charges[1:], *devices]), ctx, StagingWriter(tmp_path / "st")
    )
    assert result.control_totals["usage_lines"] == len(charges) - 1
    assert result.control_totals["rejected"] == [{"line": 1, "resource_type": "ChargeItem", "reason": "BAD_QUANTITY"}]
    assert mrn in (tmp_path / "rej" / f"{'cd' * 8}_000001.ndjson").read_text()  # the line, in quarantine only
    assert mrn not in str(result.control_totals) and mrn not in str(result.findings)
    with pytest.raises(MappingError) as refused:
        parse_fhir_supply(_write(tmp_path / "all-bad.ndjson", [zero]), ctx, StagingWriter(tmp_path / "s2"))
    assert refused.value.reason == "ALL_RESOURCES_REJECTED"


def test_a_supply_delivery_is_a_usage_without_a_charge_of_its_own(tmp_path):
    """The same usage recorded as a completed SupplyDelivery of the charge's Device: the same item, device,
    quantity, department, date and patient; no charge, price, visit or case (the master's price is posted)."""
    _, folder = _both_routes(tmp_path, messages=20)
    resources = _lines(_export(folder, tmp_path / "export.ndjson"))
    devices = [r for r in resources if r["resourceType"] == "Device"]
    implant = next(f"Device/{d['id']}" for d in devices if d.get("serialNumber"))
    charge = next(r for r in resources if r.get("productReference", {}).get("reference") == implant)
    delivery = {
        "resourceType": "SupplyDelivery",
        "id": "sd-1",
        "identifier": [{"system": fs.TRANSACTION_ID, "value": "DLV-1"}],
        "status": "completed",
        "patient": {"identifier": charge["subject"]["identifier"]},
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/supply-item-type", "code": "device"}]},
        "suppliedItem": {"quantity": charge["quantity"], "itemReference": charge["productReference"]},
        "occurrenceDateTime": charge["occurrenceDateTime"],
        "destination": {"identifier": charge["costCenter"]["identifier"]},
    }
    planned = {**delivery, "id": "sd-2", "status": "in-progress"}
    nothing = {**delivery, "id": "sd-3", "suppliedItem": {"quantity": {"value": 1}}}
    export = _write(tmp_path / "deliveries.ndjson", [charge, delivery, planned, nothing, *devices])
    mapped = map_usage(read_resources(export, FHIR_TYPES))
    assert [(r.line, r.reason) for r in mapped.rejected] == [(3, "NOT_COMPLETED"), (4, "MISSING_REQUIRED_ELEMENT")]
    billed, given = (finish_usage(r, r["transaction_date"]) for r in mapped.rows)
    same = ("erp_item_id", "gtin", "udi", "lot", "serial", "expiry_date", "quantity", "department", "patient_token")
    assert {c: given[c] for c in same} == {c: billed[c] for c in same} and given["serial"]
    assert given["transaction_id"] == "DLV-1" and given["usage_key"] != billed["usage_key"]
    assert (given["charge_amount"], given["unit_cost"], given["case_id"], given["encounter_token"]) == (None,) * 4
    assert given["master_unit_cost"] == billed["master_unit_cost"] and given["item_status"] == "mapped"
