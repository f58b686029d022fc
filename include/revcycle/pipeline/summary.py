"""Small summaries of a run for XCom and logs: counts and reason codes, never rows or PHI."""

from __future__ import annotations

from collections import Counter


def summarize_results(source: str, results: list[dict]) -> dict:
    states = Counter(r.get("state") for r in results)
    reasons = Counter(r.get("reason") for r in results if r.get("state") == "quarantined")
    return {"source": source, "files": len(results), "states": dict(states), "quarantine_reasons": dict(reasons)}
