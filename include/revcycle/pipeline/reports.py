"""Per-file validation reports for auditors: JSON and self-contained HTML, no PHI values.

A report records what was checked (every expectation, its severity and
reason code), the results as counts, the control totals, structural
findings, the quarantine decision, the acknowledgements sent and the sha256
of the input and of each acknowledgement.  Reports are written once: a
released file that is validated again gets a new report (``.r<N>``).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from revcycle.adapters.objectstore import keep
from revcycle.adapters.storage import sha256_file


def build_report(row: dict, outcome_dicts: list[dict], findings: list[dict], decision: dict) -> dict:
    acks = [p for p in (row.get("ack_path") or "").split(",") if p]
    return {
        "report_version": 1,
        "file": {
            "sha256": row["sha256"],
            "source": row["source"],
            "original_name": row["original_name"],
            "size_bytes": row["size_bytes"],
            "business_date": str(row["business_date"]),
            "landed_at": str(row["landed_at"]),
            "release_count": row["release_count"],
        },
        "envelope": {
            "sender_id": row.get("interchange_sender_id"),
            "interchanges": row.get("interchange_controls"),
            "groups": row.get("group_controls"),
            "transactions": row.get("transaction_controls"),
        },
        "control_totals": json.loads(row["control_totals"]) if row.get("control_totals") else None,
        "row_counts": json.loads(row["row_counts"]) if row.get("row_counts") else None,
        "expectations": outcome_dicts,
        "structural_findings": findings,
        "acknowledgements": [{"path": p, "sha256": sha256_file(p)} for p in acks if Path(p).exists()],
        "decision": decision,
    }


def write_report(report: dict, folder: Path) -> tuple[str, str]:
    """Write JSON + HTML once and keep them (``objectstore.keep``); return the JSON's location and sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    f = report["file"]
    stem = f["sha256"] + (f".r{f['release_count']}" if f["release_count"] else "")
    json_path = folder / f"{stem}.json"
    body = json.dumps(report, indent=2, sort_keys=True, default=str)
    if not json_path.exists():
        json_path.write_text(body)
        (folder / f"{stem}.html").write_text(render_html(report))
    digest = sha256_file(json_path)
    keep(folder / f"{stem}.html")
    return keep(json_path), digest


def render_html(report: dict) -> str:
    e = html.escape
    f = report["file"]
    d = report["decision"]
    rows = "".join(
        f"<tr class='{'ok' if o['success'] else o['severity']}'><td>{e(o['dataset'])}</td><td>{e(o['expectation'])}</td>"
        f"<td>{e(str(o['column']))}</td><td>{e(o['severity'])}</td><td>{e(o['reason'])}</td>"
        f"<td>{e(o['description'])}</td><td>{'pass' if o['success'] else 'FAIL'}</td>"
        f"<td>{o['unexpected_count'] if o['unexpected_count'] is not None else ''} / {o['element_count'] if o['element_count'] is not None else ''}</td></tr>"
        for o in report["expectations"]
    )
    totals = e(json.dumps(report["control_totals"], indent=2, default=str))
    findings = "".join(f"<li>{e(json.dumps(x, sort_keys=True))}</li>" for x in report["structural_findings"])
    acks = "".join(
        f"<li>{e(Path(a['path']).name)} <code>{e(a['sha256'])}</code></li>" for a in report["acknowledgements"]
    )
    verdict = "QUARANTINED: " + e(d.get("reason") or "") if d.get("quarantined") else "passed"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Validation {e(f["sha256"][:12])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}
tr.critical td{{background:#fdd}}tr.warning td{{background:#ffd}}tr.ok td{{background:#efe}}</style></head><body>
<h1>Validation report</h1>
<p>Source <b>{e(f["source"])}</b>, file <code>{e(f["original_name"])}</code>, sha256 <code>{e(f["sha256"])}</code>,
{f["size_bytes"]} bytes, business date {e(f["business_date"])}.</p>
<h2>Decision: {verdict}</h2><p>{e(d.get("detail") or "")}</p>
<h2>Expectations</h2><table><tr><th>dataset</th><th>expectation</th><th>column</th><th>severity</th><th>reason</th>
<th>rule</th><th>result</th><th>unexpected / rows</th></tr>{rows}</table>
<h2>Control totals</h2><pre>{totals}</pre>
<h2>Structural findings</h2><ul>{findings}</ul>
<h2>Acknowledgements</h2><ul>{acks}</ul>
</body></html>"""
