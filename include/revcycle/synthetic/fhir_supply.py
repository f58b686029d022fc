"""The synthetic OR system's supply usage as an EHR's FHIR R4 resources: a ``ChargeItem`` a DFT^P03 message
(``revcycle.synthetic.supply``) would carry, and the ``Device`` (UDI, lot, serial, expiry) its ZIM names.
Mapped back by ``revcycle.fhir.supply`` to the rows the DFT gives.  A charge names its patient by MRN and its
visit by number, as logical references, never by name or birth date.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from revcycle.fhir import supply as fs
from revcycle.synthetic.fhir_remittance import dumps, settle_files, usd
from revcycle.synthetic.identities import patient

FILES = ("ChargeItem.ndjson", "Device.ndjson")


def _instant(used_at: str) -> str:
    t = used_at
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def usage_resources(u: dict, ctl: str) -> tuple[dict, dict | None]:
    """The charge of one DFT message's usage, and its Device when the message's ZIM names one."""
    item = u["item"]
    unit = Decimal(item["unit_cost"])
    p = patient(random.Random(u["n"]), u["n"])  # the DFT's patient, drawn as the DFT draws it
    charge = {
        "resourceType": "ChargeItem",
        "id": f"ci-{ctl}",
        "extension": [{"url": fs.UNIT_PRICE, "valueMoney": usd(unit)}],
        "identifier": [{"system": fs.TRANSACTION_ID, "value": f"{ctl}-1"}],
        "status": "billable",
        "code": {
            "coding": [
                {
                    "system": fs.VENDOR_ITEM,
                    "code": item["vendor_item_number"],
                    "display": item["description"].replace("^", " "),
                }
            ]
        },
        "subject": {"identifier": {"system": fs.PATIENT_MRN, "value": p.mrn}},
        "context": {"identifier": {"system": fs.VISIT, "value": u["encounter_ref"]}},
        "occurrenceDateTime": _instant(u["used_at"]),
        "quantity": {"value": u["quantity"]},
        "priceOverride": usd(unit * u["quantity"]),
        "costCenter": {"identifier": {"system": fs.DEPARTMENT, "value": u["department"]}},
        "service": [{"type": "Procedure", "identifier": {"system": fs.SURGICAL_CASE, "value": u["case_id"]}}],
    }
    if not (item["gtin"] or u["lot"] or u["serial"] or u["expiry"]):
        return charge, None
    device: dict = {"resourceType": "Device", "id": f"dev-{ctl}"}
    if item["gtin"]:
        device["udiCarrier"] = [{"deviceIdentifier": item["gtin"]}]
    if u["lot"]:
        device["lotNumber"] = u["lot"]
    if u["serial"]:
        device["serialNumber"] = u["serial"]
    if u["expiry"]:
        e = u["expiry"]
        device["expirationDate"] = f"{e[:4]}-{e[4:6]}-{e[6:8]}"
    charge["productReference"] = {"reference": f"Device/{device['id']}"}
    return charge, device


class UsageExport:
    """The EHR's day of charges, written one usage at a time (bounded memory), settled when closed."""

    def __init__(self, folder: Path) -> None:
        from revcycle.adapters.storage import private_dir

        for f in (folder.parent, folder):
            private_dir(f)
        self.folder = folder
        self.staged = [folder / f".{name}.new" for name in FILES]
        self.files = [open(p, "w", encoding="utf-8") for p in self.staged]
        self.count = 0

    def add(self, u: dict, ctl: str) -> None:
        charge, device = usage_resources(u, ctl)
        self.files[0].write(dumps(charge) + "\n")
        if device is not None:
            self.files[1].write(dumps(device) + "\n")
        self.count += 1

    def close(self) -> list[Path]:
        for f in self.files:
            f.close()
        settle_files(self.folder, list(zip(self.staged, FILES, strict=True)))
        return [self.folder / name for name in FILES]


def day_folder(root: Path, day: dt.date) -> Path:
    return root / "fhir_ehr" / day.isoformat()
