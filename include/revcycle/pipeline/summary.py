"""Small summaries of a run for XCom and logs: counts and reason codes, never rows or PHI."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal


def summarize_results(source: str, results: list[dict]) -> dict:
    states = Counter(r.get("state") for r in results)
    reasons = Counter(r.get("reason") for r in results if r.get("state") == "quarantined")
    return {"source": source, "files": len(results), "states": dict(states), "quarantine_reasons": dict(reasons)}


def run_effect(before: list[dict], after: list[dict]) -> dict:
    """What one run did to a business day's files, from its ledger rows before and after the run: files new
    to the day (by state), known files processed again (their ERP rows changed or not: the ``.inserted``
    row counts of this processing), and known files left as they were (by state)."""
    known = {r["sha256"]: r for r in before}
    new: Counter = Counter()
    again = {"changed": 0, "unchanged": 0}
    untouched: Counter = Counter()
    for r in after:
        old = known.get(r["sha256"])
        if old is None:
            new[r["state"]] += 1
        elif old["updated_at"] != r["updated_at"] or old["state"] != r["state"]:
            counts = json.loads(r["row_counts"] or "{}")
            inserted = sum(v for k, v in counts.items() if k.endswith(".inserted"))
            again["changed" if inserted or r["state"] != "posted" else "unchanged"] += 1
        else:
            untouched[r["state"]] += 1
    return {"new": dict(new), "processed_again": again, "untouched": dict(untouched)}


def describe_effect(effect: dict) -> str:
    """'17 new files (posted 16, quarantined 1)' / '0 new files; 17 already posted, unchanged' /
    '0 new files; 17 processed again, unchanged in the ERP'."""
    new = sum(effect["new"].values())
    parts = [f"{new} new file{'' if new == 1 else 's'}"]
    if new:
        parts[0] += " (" + ", ".join(f"{state} {n}" for state, n in sorted(effect["new"].items())) + ")"
    again = effect["processed_again"]
    if again["unchanged"] or again["changed"]:
        text = f"{again['unchanged'] + again['changed']} processed again, "
        text += (
            "unchanged in the ERP"
            if not again["changed"]
            else f"{again['changed']} changed the ERP or their state, {again['unchanged']} unchanged"
        )
        parts.append(text)
    for state, n in sorted(effect["untouched"].items()):
        parts.append(f"{n} already {state}, unchanged")
    return "; ".join(parts)


def file_extras(results: list[dict], datasets: list[str]) -> dict[str, dict]:
    """What each published Asset's event tells in the UI: the files of this run by state, the rows each
    dataset gained from them, and the files' summed control totals (counts and money, no identifiers).
    ``results`` are the per-file pointers of the run (a group mapped over one file hands back a dict)."""
    from revcycle.adapters import ledger

    states = Counter(r.get("state") for r in results)
    rows: Counter = Counter()
    totals: dict[str, Decimal] = {}
    for r in results:
        row = ledger.get(r["sha256"]) if r.get("sha256") else None
        if not row or row["state"] != "posted":
            continue
        rows.update({k: v for k, v in json.loads(row["row_counts"] or "{}").items() if k in datasets})
        for key, value in json.loads(row["control_totals"] or "{}").items():
            number = _number(value)
            if number is not None:
                totals[key] = totals.get(key, Decimal(0)) + number
    common = {"files": len(results), **{f"files_{state}": n for state, n in sorted(states.items()) if state}}
    common["control_totals"] = {k: str(v) for k, v in sorted(totals.items())}
    return {d: {**common, "rows": rows.get(d, 0)} for d in datasets}


def function_extras(result: dict, assets: list[str]) -> dict[str, dict]:
    """The Asset event extras of a day-level function (reconciliation, invoice matching): its counts, and for
    an extract its own row count."""
    counts = {k: v for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool)}
    for key, value in result.items():
        if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            counts[key] = value
    per_extract = result.get("extracts") or {}
    extras = {}
    for name in assets:
        extract = name.removeprefix("recon__")
        extras[name] = {**counts, "rows": per_extract[extract]} if extract in per_extract else dict(counts)
    return extras


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return Decimal(value)
    except ArithmeticError:
        return None
