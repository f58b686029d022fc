"""The patient data a synthetic day's inbound files hold (names, member ids, birth dates), to prove that none of
it shows anywhere it must not."""

from __future__ import annotations

import csv
import re
from pathlib import Path


def phi_values(inbound: Path) -> set[str]:
    values: set[str] = set()
    for path in inbound.rglob("*"):
        if not path.is_file() or "_manifest" in path.parts:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for m in re.finditer(r"NM1(.)(?:QC|IL)\1\d\1([^~\n]*)", text):
            sep = m.group(1)
            parts = m.group(2).split(sep)
            values |= {parts[0], parts[1], parts[-1]}  # last, first, member id
        for m in re.finditer(r"\rPID\|1\|\|([^|]*)\|\|([^|^]*)\^([^|]*)\|\|(\d{8})", "\r" + text.replace("\n", "\r")):
            values |= {m.group(1).split("^")[0], m.group(2), m.group(3), m.group(4)}
        # FHIR resources: a member id as the patient's logical reference (the synthetic payers send no names).
        values |= set(re.findall(r'"patient":\{"identifier":\{"system":"[^"]*","value":"([^"]+)"', text))
        # The EHR's charges: the patient's MRN as the subject's logical reference.
        values |= set(re.findall(r'"subject":\{"identifier":\{"system":"[^"]*","value":"([^"]+)"', text))
        if path.suffix == ".csv" and "billing" in path.parts:
            for row in csv.DictReader(text.splitlines()):
                values |= {
                    row["subscriber_last_name"],
                    row["subscriber_first_name"],
                    row["member_id"],
                    row["subscriber_birth_date"],
                    row["subscriber_birth_date"].replace("-", ""),
                }
    return {v for v in values if len(v) >= 4}
