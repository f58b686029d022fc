"""Synthetic supply/implant usage (HL7 DFT^P03 + OR CSV export), supplier invoices and bank deposits.

Items come from the versioned item master (``include/config/item_master.csv``).
Consignment implants used today are invoiced by their supplier; two breaks are
seeded on purpose and listed in the manifest: one invoice line priced outside
tolerance and one invoice line with no recorded usage.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from revcycle.settings import CONFIG_DIR
from revcycle.synthetic import fhir_supply
from revcycle.synthetic.identities import patient

MESSAGES_PER_FILE = 5000  # one OR-system batch file holds up to this many DFT messages
USAGE_COLUMNS = [
    "case_id",
    "encounter_ref",
    "used_at",
    "vendor_item_number",
    "gtin",
    "lot",
    "serial",
    "quantity",
    "unit_of_measure",
    "unit_cost",
    "department",
    "procedure_code",
    "implant_flag",
    "consignment_flag",
]
INVOICE_COLUMNS = [
    "invoice_number",
    "supplier_id",
    "invoice_date",
    "line_number",
    "vendor_item_number",
    "gtin",
    "lot",
    "serial",
    "quantity",
    "unit_price",
    "extended_amount",
    "po_reference",
]
BANK_COLUMNS = ["deposit_date", "bank_reference", "originator_id", "trace_number", "amount", "deposit_type"]


def load_item_master() -> list[dict]:
    with open(CONFIG_DIR / "item_master.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _usage(rng: random.Random, items: list[dict], n: int, day: dt.date) -> dict:
    item = rng.choice(items)
    implant = item["implant"] == "Y"
    qty = 1 if implant else rng.choice((1, 2, 4, 10))
    return {
        "n": n,
        "case_id": f"CASE{day:%y%m%d}{n // 3:05d}",
        "encounter_ref": f"V{day:%y%m%d}{n // 3:05d}",
        "used_at": f"{day:%Y%m%d}{8 + n % 9:02d}{n % 60:02d}00",
        "item": item,
        "quantity": qty,
        "lot": f"LOT{rng.randrange(10**6):06d}" if implant else "",
        "serial": f"SN{day:%y%m%d}{n:06d}" if implant else "",
        "expiry": f"{day.year + 2}1231" if implant else "",
        "department": rng.choice(("OR1", "OR2", "CATH", "ORTHO")),
        "procedure": rng.choice(("27130", "27447", "92928", "33208", "20680")),
    }


def _dft(u: dict, day: dt.date, ctl: str) -> str:
    item = u["item"]
    p = patient(random.Random(u["n"]), u["n"])
    unit = Decimal(item["unit_cost"])
    ext = unit * u["quantity"]
    ts = u["used_at"]
    segs = [
        f"MSH|^~\\&|ORSYS|SYNTHHOSP|ERP|SYNTHHOSP|{ts}||DFT^P03^DFT_P03|{ctl}|P|2.5.1",
        f"EVN|P03|{ts}",
        f"PID|1||{p.mrn}^^^SYNTH^MR||{p.last}^{p.first}||{p.birth_date}|U",
        f"PV1|1|O|{u['department']}^01^A|||||||SUR|||||||||{u['encounter_ref']}",
        f"FT1|1|{ctl}-1||{ts}|{ts}|CG|{item['vendor_item_number']}^{item['description'].replace('^', ' ')}^VENDOR"
        f"|||{u['quantity']}|{ext}|{unit}|{u['department']}||||||||||||{u['procedure']}",
        f"ZIM|1|{item['gtin']}|{u['lot']}|{u['serial']}|{u['expiry']}|{item['implant']}|{item['consignment']}"
        f"|{u['case_id']}",
    ]
    return "\r".join(segs) + "\r"


def write_supply_files(
    root: Path, day: dt.date, rng: random.Random, messages: int, fhir_share: float = 0.0
) -> list[dict]:
    """Usage is generated and written one message at a time; only consigned usage is kept (for invoices).
    The last ``fhir_share`` of the usage the DFT files would carry goes as the EHR's FHIR ChargeItems instead,
    to ``<root>/fhir_ehr/<day>/`` (the store its FHIR server exports from); the rest of the day is unchanged."""
    from revcycle.adapters.storage import sha256_file

    items = load_item_master()
    entries = []
    consigned: list[dict] = []
    # HL7: most usage as DFT^P03 batches; the last tenth comes as the OR system's CSV export.
    split_at = messages - max(1, messages // 10)
    hl7_until = split_at - round(split_at * max(0.0, min(1.0, fhir_share)))
    n = 1
    file_no = 0
    while n <= hl7_until:
        file_no += 1
        path = root / "supply" / f"dft_{day:%Y%m%d}_{file_no:03d}.hl7"
        count, total = 0, Decimal("0")
        with open(path, "w", encoding="ascii", newline="") as out:
            while n <= hl7_until and count < MESSAGES_PER_FILE:
                u = _usage(rng, items, n, day)
                out.write(_dft(u, day, f"SUP{day:%y%m%d}{u['n']:07d}"))
                total += Decimal(u["item"]["unit_cost"]) * u["quantity"]
                if u["item"]["consignment"] == "Y":
                    consigned.append(u)
                count += 1
                n += 1
        entries.append(
            {
                "path": str(path.relative_to(root)),
                "type": "hl7",
                "sha256": sha256_file(path),
                "messages": count,
                "ft1": count,
                "charge_total": str(total),
            }
        )
    if hl7_until < split_at:
        export = fhir_supply.UsageExport(fhir_supply.day_folder(root, day))
        total = Decimal("0")
        for n in range(hl7_until + 1, split_at + 1):
            u = _usage(rng, items, n, day)
            export.add(u, f"SUP{day:%y%m%d}{u['n']:07d}")
            total += Decimal(u["item"]["unit_cost"]) * u["quantity"]
            if u["item"]["consignment"] == "Y":
                consigned.append(u)
        paths = export.close()
        entries.append(
            {
                "path": str(paths[0].relative_to(root)),
                "type": "fhir_supply",
                "sha256": sha256_file(paths[0]),
                "exports": [str(p.relative_to(root)) for p in paths],
                "messages": export.count,
                "ft1": export.count,
                "charge_total": str(total),
            }
        )
    path = root / "supply" / f"or_usage_{day:%Y%m%d}.csv"
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(USAGE_COLUMNS)
        for n in range(split_at + 1, messages + 1):
            u = _usage(rng, items, n, day)
            item = u["item"]
            w.writerow(
                [
                    u["case_id"],
                    u["encounter_ref"],
                    u["used_at"],
                    item["vendor_item_number"],
                    item["gtin"],
                    u["lot"],
                    u["serial"],
                    u["quantity"],
                    item["unit_of_measure"],
                    item["unit_cost"],
                    u["department"],
                    u["procedure"],
                    item["implant"],
                    item["consignment"],
                ]
            )
            if item["consignment"] == "Y":
                consigned.append(u)
            rows += 1
    entries.append(
        {"path": str(path.relative_to(root)), "type": "usage_csv", "sha256": sha256_file(path), "rows": rows}
    )
    entries.append(_write_invoices(root, day, rng, consigned, items))
    return entries


def _write_invoices(root: Path, day: dt.date, rng: random.Random, consigned: list[dict], items: list[dict]) -> dict:
    from revcycle.adapters.storage import sha256_file

    path = root / "invoices" / f"supplier_invoices_{day:%Y%m%d}.csv"
    breaks = []
    lines = []
    for i, u in enumerate(consigned, start=1):
        price = Decimal(u["item"]["unit_cost"])
        if i == 1:
            price = (price * Decimal("1.10")).quantize(Decimal("0.01"))
            breaks.append({"kind": "price_mismatch", "serial": u["serial"]})
        lines.append((u["item"], u["lot"], u["serial"], u["quantity"], price))
    orphan_item = next(it for it in items if it["consignment"] == "Y")
    lines.append((orphan_item, "LOT999999", f"SNORPHAN{day:%y%m%d}", 1, Decimal(orphan_item["unit_cost"])))
    breaks.append({"kind": "invoice_without_usage", "serial": f"SNORPHAN{day:%y%m%d}"})
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(INVOICE_COLUMNS)
        for n, (item, lot, serial, qty, price) in enumerate(lines, start=1):
            w.writerow(
                [
                    f"INV-{item['supplier_id']}-{day:%Y%m%d}",
                    item["supplier_id"],
                    day.isoformat(),
                    n,
                    item["vendor_item_number"],
                    item["gtin"],
                    lot,
                    serial,
                    qty,
                    price,
                    price * qty,
                    f"PO-{serial}",
                ]
            )
    return {
        "path": str(path.relative_to(root)),
        "type": "invoice_csv",
        "sha256": sha256_file(path),
        "lines": len(lines),
        "breaks": breaks,
    }


def write_bank_file(path: Path, root: Path, day: dt.date, deposits: list[dict]) -> dict:
    """One deposit line per payment: ACH on the payment date, checks deposited the same day."""
    from revcycle.adapters.storage import sha256_file

    total = Decimal("0")
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(BANK_COLUMNS)
        for n, d in enumerate(deposits, start=1):
            amount = Decimal(d["amount"])
            total += amount
            w.writerow(
                [
                    d["payment_date"],
                    f"BNK{day:%Y%m%d}{n:05d}",
                    d["payer_id"],
                    d["trace"],
                    amount,
                    "ACH" if d["method"] == "ACH" else "CHECK",
                ]
            )
    return {
        "path": str(path.relative_to(root)),
        "type": "bank",
        "sha256": sha256_file(path),
        "deposits": len(deposits),
        "total": str(total),
    }
