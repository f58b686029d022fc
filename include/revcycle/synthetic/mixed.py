"""A mixed business day: the ordinary synthetic day, plus the trouble real days bring (the soak, issue 26).

On top of ``generate_day``'s files, ``add_trouble`` delivers into the same inbound folder:
- a re-sent file: yesterday's first 835 again, under another name (the same bytes: landed once, never twice);
- a duplicate payment: yesterday's second 835 re-enveloped under a new ISA13 (new bytes, the same payments);
- a malformed file of each kind: an 835 and a 277 cut short, a 999 that is no X12, an HL7 file with no
  message, and an OR usage, a bank deposit, an open-AR and a supplier-invoice CSV that break their contract;
- a late file: one 835 of the day before yesterday, held back when that day was generated and delivered now.

Everything is derived from the day, the seed and what earlier days left in the inbound folder, so two homes
that run the same days in the same order get the same bytes. The manifest's ``trouble`` lists what was
delivered and which files must end quarantined.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from revcycle.adapters.storage import PRIVATE_FILE, private_dir

HELD = "_held"  # files held back, by the day they are delivered on (no source reads this folder)


def _bad_csv(kind: str, stamp: str) -> str:
    """A CSV that breaks its contract, different for each kind and day (the same bytes twice would be one
    file sent twice, landed once)."""
    return f"not,the,{kind},contract\n{stamp},1,2,3\n"


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.exists() else []


def _reenvelope(data: bytes, control: int) -> bytes:
    """The same interchange under another ISA13/IEA02 (the ISA keeps its fixed width)."""
    sep, term = data[3:4], data[105:106]
    segments = data.split(term)
    isa = segments[0].split(sep)
    isa[13] = f"{control:09d}".encode()
    segments[0] = sep.join(isa)
    for i in range(len(segments) - 1, -1, -1):
        if segments[i].strip().startswith(b"IEA"):
            iea = segments[i].strip().split(sep)
            iea[2] = f"{control:09d}".encode()
            segments[i] = sep.join(iea)
            break
    return term.join(segments)


def _cut_short(data: bytes) -> bytes:
    """The interchange without its last segments (a transfer that stopped: no IEA, no GE, no SE)."""
    term = data[105:106]
    segments = [s for s in data.split(term) if s.strip()]
    return term.join(segments[: max(2, len(segments) - 3)]) + term


def _write(path: Path, data: bytes | str) -> str:
    private_dir(path.parent)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(PRIVATE_FILE)
    return str(path)


def add_trouble(inbound: Path, day: dt.date, manifest: dict) -> dict:
    """Deliver the day's trouble into ``inbound`` (beside the day ``generate_day`` just wrote, whose manifest is
    ``manifest``); return what was delivered and which names must end quarantined, also saved in the manifest."""
    stamp, yesterday = f"{day:%Y%m%d}", day - dt.timedelta(days=1)
    trouble: dict = {"resent": [], "duplicate_payment": [], "malformed": {}, "late": [], "held": []}

    # The late file: delivered today if it was held back two days ago.
    for path in _files(inbound / HELD / day.isoformat(), "*"):
        target = inbound / "remittance" / path.name
        shutil.move(str(path), target)
        trouble["late"].append(str(target.relative_to(inbound)))
    # ... and today's to hold back: the last 835 of the day, delivered the day after tomorrow.
    todays = _files(inbound / "remittance", f"era_*_{stamp}_*.835")
    if len(todays) > 1:
        later = inbound / HELD / (day + dt.timedelta(days=2)).isoformat()
        private_dir(later)
        shutil.move(str(todays[-1]), later / todays[-1].name)
        trouble["held"].append(todays[-1].name)

    earlier = _files(inbound / "remittance", f"era_*_{yesterday:%Y%m%d}_*.835")
    if earlier:
        resent = inbound / "remittance" / f"resent_{stamp}_{earlier[0].name}"
        trouble["resent"].append(_write(resent, earlier[0].read_bytes()))
    if len(earlier) > 1:
        control = 700_000_000 + day.toordinal() % 100_000_000
        dup = inbound / "remittance" / f"duplicate_{stamp}_{earlier[1].name}"
        trouble["duplicate_payment"].append(_write(dup, _reenvelope(earlier[1].read_bytes(), control)))

    bad = trouble["malformed"]
    if todays:
        bad["835"] = _write(inbound / "remittance" / f"cut_{stamp}.835", _cut_short(todays[0].read_bytes()))
    statuses = _files(inbound / "claim_status", f"status_*_{stamp}.277")
    if statuses:
        bad["277"] = _write(inbound / "claim_status" / f"cut_{stamp}.277", _cut_short(statuses[0].read_bytes()))
    bad["999"] = _write(inbound / "acks" / f"999_garbled_{stamp}.999", f"ISA*this is no interchange of {stamp}~")
    bad["hl7"] = _write(inbound / "supply" / f"dft_garbled_{stamp}.hl7", f"no HL7 message in this file of {stamp}\r")
    bad["or-csv"] = _write(inbound / "supply" / f"or_usage_garbled_{stamp}.csv", _bad_csv("or", stamp))
    bad["bank"] = _write(inbound / "bank" / f"deposits_garbled_{stamp}.csv", _bad_csv("bank", stamp))
    bad["billing"] = _write(inbound / "billing" / f"open_ar_garbled_{stamp}.csv", _bad_csv("ar", stamp))
    bad["invoices"] = _write(
        inbound / "invoices" / f"supplier_invoices_garbled_{stamp}.csv", _bad_csv("invoice", stamp)
    )

    for key in ("resent", "duplicate_payment"):
        trouble[key] = [str(Path(p).relative_to(inbound)) for p in trouble[key]]
    trouble["malformed"] = {k: str(Path(p).relative_to(inbound)) for k, p in bad.items()}
    trouble["must_quarantine"] = sorted(
        Path(p).name for p in [*trouble["duplicate_payment"], *trouble["malformed"].values()]
    )
    manifest["trouble"] = trouble
    (inbound / "_manifest" / f"{day.isoformat()}.json").write_text(json.dumps(manifest, indent=2))
    return trouble
