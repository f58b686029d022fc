"""Implementation-guide validation with pyx12, where it is strong (structure, code lists).

pyx12's validator runs at ~10,000 segments/s here, so it is applied to files
up to ``REVCYCLE_IG_MAX_SEGMENTS`` segments (default 50,000); larger files
record that the check was skipped.  Findings are warnings: many real payer
files break a TR3 rule without being wrong to post.  They carry segment ids,
error codes and counts only - pyx12's messages quote element values, which
may be PHI, so they are never copied.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from pathlib import Path

from revcycle.settings import get_settings


def _walk(node: dict | list, out: Counter, seg: str = "") -> None:
    if isinstance(node, dict):
        seg = node.get("seg_id", seg) or seg
        for err in node.get("errors", []) or []:
            out[(seg, str(err.get("err_cde")))] += 1
        for value in node.values():
            if isinstance(value, (list, dict)):
                _walk(value, out, seg)
    elif isinstance(node, list):
        for value in node:
            _walk(value, out, seg)


def error_counts(pyx12_json: str) -> Counter:
    """(segment id, pyx12 error code) -> count, from pyx12's JSON error document."""
    counts: Counter = Counter()
    try:
        _walk(json.loads(pyx12_json or "[]"), counts)
    except json.JSONDecodeError:
        counts[("", "unreadable")] += 1
    return counts


def structural_findings(path: Path, segment_count: int) -> list[dict]:
    limit = get_settings().ig_max_segments
    if segment_count > limit:
        return [
            {
                "check": "pyx12_implementation_guide",
                "status": "skipped",
                "detail": f"{segment_count} segments exceed the limit of {limit}",
            }
        ]
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    out = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, None, out)
    except Exception as exc:  # noqa: BLE001 - pyx12 raises anything on maps it lacks (4010 variants): a finding
        return [{"check": "pyx12_implementation_guide", "status": "not_run", "detail": type(exc).__name__}]
    counts = error_counts(out.getvalue())
    findings = [
        {
            "check": "pyx12_implementation_guide",
            "status": "passed" if ok and not counts else "findings",
            "detail": f"{sum(counts.values())} findings",
        }
    ]
    findings += [
        {"check": "pyx12_implementation_guide", "segment": seg, "error_code": code, "count": n}
        for (seg, code), n in sorted(counts.items())
    ]
    return findings
