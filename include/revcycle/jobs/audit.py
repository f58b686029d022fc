"""Auditor reports of a business day: one index page linking every file's validation report, its lineage,
the SLA report, the reconciliation control totals and the KPIs - HTML and JSON, no PHI.

``revcycle audit-report --date D`` writes ``reports/audit/D/``:
    index.html / index.json        the day: runs, files, checks, totals, breaches, KPIs
    sla.json                       per task p50/p95/max vs threshold, breaches, landed -> posted per file
    lineage/<sha256>.json          that file's OpenLineage events (from the lineage log)
Per-file validation reports (``reports/validation/D/<sha256>.html|json``) are written once by the
validate step, and their sha256 is in the ledger; the index shows it and checks it again.  Everything
shown comes from the ledger, ops and the reports themselves: counts, identifiers, codes, money totals.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for, query
from revcycle.adapters.lake import Lake
from revcycle.adapters.objectstore import keep_tree, sha256_location
from revcycle.jobs import kpi, reconciliation, sla
from revcycle.settings import get_settings

CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}th{background:#f2f2f2}
.quarantined,.bad{background:#fde2e2}.posted,.ok{background:#e6f4e6}code{font-size:12px}h2{margin-top:28px}"""


def _lineage_for_file(sha256: str, folder: Path) -> str | None:
    log_file = get_settings().lineage_file
    if not log_file.exists():
        return None
    events = []
    with open(log_file) as fh:
        for line in fh:
            if sha256 in line:
                e = json.loads(line)
                if (e.get("run", {}).get("facets", {}).get("revcycle") or {}).get("sha256") == sha256:
                    events.append(e)
    if not events:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256}.json"
    path.write_text(json.dumps(events, indent=1, sort_keys=True))
    return path.name


def _runs(day: dt.date) -> list[dict]:
    with engine_for("ops").connect() as conn:
        rows = query(conn, "ops/audit_runs", {"business_date": day}).mappings().all()
    return [{k: (str(v) if isinstance(v, (dt.datetime, dt.date)) else v) for k, v in dict(r).items()} for r in rows]


def build(day: dt.date) -> str:
    """Write the day's audit report (index.html/json, SLA report, per-file lineage) and keep it with the
    other reports; return the location of its index.html."""
    s = get_settings()
    folder = s.reports / "audit" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lake = Lake.configured()
    files = []
    for row in ledger.for_day(day):
        full = ledger.get(row["sha256"]) or row
        report = full.get("report_path") or None
        outputs = json.loads(full.get("outputs") or "[]")
        acks = [p for p in (full.get("ack_path") or "").split(",") if p]
        files.append(
            {
                "sha256": full["sha256"],
                "source": full["source"],
                "original_name": full["original_name"],
                "state": full["state"],
                "reason": full["reason"],
                "detail": full.get("detail"),
                "interchanges": full.get("interchange_controls"),
                "transactions": full.get("transaction_controls"),
                "row_counts": json.loads(full.get("row_counts") or "{}"),
                "control_totals": {
                    k: v for k, v in json.loads(full.get("control_totals") or "{}").items() if not isinstance(v, list)
                },
                "report": report,
                "report_sha256_ledger": full.get("report_sha256"),
                "report_sha256_now": sha256_location(report) if report else None,
                "acknowledgements": [{"path": a, "sha256": sha256_location(a)} for a in acks],
                "outputs": [{"path": o, "sha256": lake.sha256(o)} for o in outputs],
                "lineage": _lineage_for_file(full["sha256"], folder / "lineage"),
            }
        )
    sla_report = sla.report(day)
    (folder / "sla.json").write_text(json.dumps(sla_report, indent=1, sort_keys=True, default=str))
    kpis = kpi.compute(day)
    recon = reconciliation.recorded_runs(day)
    index = {
        "business_date": day.isoformat(),
        "files": files,
        "runs": _runs(day),
        "sla": sla_report,
        "kpis": [
            {**k, "business_date": str(k["business_date"]), "value": None if k["value"] is None else str(k["value"])}
            for k in kpis
        ],
        "reconciliation": {
            k: {
                "rows": v["row_count"],
                "control_totals": json.loads(v["control_totals"]),
                "parquet_sha256": v["parquet_sha256"],
                "csv_sha256": v["csv_sha256"],
            }
            for k, v in recon.items()
        },
    }
    (folder / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True, default=str))
    (folder / "index.html").write_text(render(index, folder))
    return keep_tree(folder) + "/index.html"


def _rel(target: str | None, folder: Path) -> str | None:
    """A link from the index folder to a file anywhere (reports, acknowledgements): a relative path.  Files
    kept in object storage sit under the same relative layout as the home the index is written in, so the
    link holds in the bucket too; a location elsewhere is linked whole."""
    if not target:
        return None
    s = get_settings()
    if s.storage_url and target.startswith(s.storage_url + "/"):
        target = str(s.home / target[len(s.storage_url) + 1 :])
    return target if "://" in target else os.path.relpath(target, folder)


def render(index: dict, folder: Path) -> str:
    def e(v: object) -> str:
        return html.escape("" if v is None else str(v))

    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Audit {e(index['business_date'])}</title>"
        f"<style>{CSS}</style></head><body><h1>Audit report - business day {e(index['business_date'])}</h1>",
        "<p>Counts, identifiers, reason codes and money totals only; no patient data. Machine-readable: "
        "<a href='index.json'>index.json</a>, <a href='sla.json'>sla.json</a>.</p>",
    ]
    parts.append(
        "<h2 id='kpis'>KPIs</h2><table><tr><th>KPI</th><th>value</th><th>unit</th><th>how</th></tr>"
        + "".join(
            f"<tr><td>{e(k['kpi'])}</td><td>{e(k['value'] if k['value'] is not None else 'n/a')}</td><td>{e(k['unit'])}"
            f"</td><td>{e(k['detail'])}</td></tr>"
            for k in index["kpis"]
        )
        + "</table>"
    )
    parts.append(
        "<h2 id='runs'>DAG runs</h2><table><tr><th>DAG</th><th>run</th><th>task tries</th><th>failed</th>"
        "<th>SLA breaches</th><th>task seconds</th><th>started</th><th>ended</th></tr>"
        + "".join(
            f"<tr class='{'bad' if r['failed'] or r['breaches'] else 'ok'}'><td>{e(r['dag_id'])}</td>"
            f"<td><code>{e(r['run_id'])}</code></td><td>{e(r['tries'])}</td><td>{e(r['failed'])}</td>"
            f"<td>{e(r['breaches'])}</td><td>{e(r['seconds'])}</td><td>{e(r['started'])}</td>"
            f"<td>{e(r['ended'])}</td></tr>"
            for r in index["runs"]
        )
        + "</table>"
    )
    parts.append(
        "<h2 id='files'>Files</h2><table><tr><th>source</th><th>file</th><th>state</th><th>reason</th>"
        "<th>envelope</th><th>rows</th><th>control totals</th><th>validation report</th>"
        "<th>acknowledgements</th><th>outputs</th><th>lineage</th></tr>"
    )
    for f in index["files"]:
        rep = _rel(f["report"], folder)
        report_cell = (
            (
                "<a href='{}'>HTML</a> <a href='{}'>JSON</a><br><code title='{}'>{}</code> {}".format(
                    e(rep[:-5] + ".html"),
                    e(rep),
                    e(f["report_sha256_ledger"]),
                    e((f["report_sha256_ledger"] or "")[:12]),
                    "hash ok" if f["report_sha256_now"] == f["report_sha256_ledger"] else "HASH CHANGED",
                )
            )
            if rep
            else "-"
        )
        acks = (
            "<br>".join(
                f"<a href='{e(_rel(a['path'], folder))}'>{e(Path(a['path']).name)}</a>" for a in f["acknowledgements"]
            )
            or "-"
        )
        outs = (
            "<br>".join(
                f"{e(Path(o['path']).parent.parent.name if 'payer_id=' in o['path'] else Path(o['path']).parent.name)}"
                f" <code title='{e(o['sha256'])}'>{e((o['sha256'] or '')[:12])}</code>"
                for o in f["outputs"]
            )
            or "-"
        )
        lineage = f"<a href='lineage/{e(f['lineage'])}'>events</a>" if f["lineage"] else "-"
        parts.append(
            f"<tr class='{e(f['state'])}'><td>{e(f['source'])}</td><td>{e(f['original_name'])}<br>"
            f"<code title='{e(f['sha256'])}'>{e(f['sha256'][:16])}</code></td><td>{e(f['state'])}</td>"
            f"<td>{e(f['reason'] or '')}</td><td>{e(f['interchanges'] or '')}<br>{e(f['transactions'] or '')}</td>"
            f"<td><code>{e(json.dumps(f['row_counts'], sort_keys=True))}</code></td>"
            f"<td><code>{e(json.dumps(f['control_totals'], sort_keys=True))}</code></td><td>{report_cell}</td>"
            f"<td>{acks}</td><td>{outs}</td><td>{lineage}</td></tr>"
        )
    parts.append("</table>")
    tasks = index["sla"]["tasks"]
    width = max([t["max"] for t in tasks] + [t["threshold"] for t in tasks] + [1])
    bars = "".join(
        f"<g transform='translate(0,{i * 18})'><text x='0' y='12' font-size='11'>{e(t['dag_id'] + '.' + t['task_id'])}"
        f"</text><rect x='300' y='3' height='10' width='{300 * t['p95'] / width:.1f}' fill='"
        f"{'#d33' if t['breaches'] else '#3a3'}'/><line x1='{300 + 300 * t['threshold'] / width:.1f}' x2='"
        f"{300 + 300 * t['threshold'] / width:.1f}' y1='0' y2='16' stroke='#000'/></g>"
        for i, t in enumerate(tasks)
    )
    parts.append(
        f"<h2 id='sla'>Task latency against SLA</h2><p>Bar: p95 seconds; line: threshold.</p>"
        f"<svg width='640' height='{18 * len(tasks) + 4}' role='img'>{bars}</svg>"
        "<table><tr><th>DAG</th><th>task</th><th>tries</th><th>p50 s</th><th>p95 s</th><th>max s</th>"
        "<th>threshold s</th><th>breaches</th><th>failed</th></tr>"
        + "".join(
            f"<tr class='{'bad' if t['breaches'] or t['failed'] else 'ok'}'><td>{e(t['dag_id'])}</td>"
            f"<td>{e(t['task_id'])}</td><td>{t['tries']}</td><td>{t['p50']}</td><td>{t['p95']}</td>"
            f"<td>{t['max']}</td><td>{t['threshold']}</td><td>{t['breaches']}</td><td>{t['failed']}</td></tr>"
            for t in tasks
        )
        + "</table>"
    )
    parts.append(
        "<h3>Business latency per file (landed to posted or quarantined)</h3><table><tr><th>source</th>"
        "<th>file</th><th>state</th><th>minutes</th><th>threshold</th></tr>"
        + "".join(
            f"<tr class='{'bad' if f['breached'] else 'ok'}'><td>{e(f['source'])}</td><td>{e(f['file'])}</td>"
            f"<td>{e(f['state'])}</td><td>{e(f['landed_to_done_minutes'])}</td>"
            f"<td>{e(f['threshold_minutes'])}</td></tr>"
            for f in index["sla"]["files"]
        )
        + "</table>"
    )
    parts.append(
        "<h2 id='reconciliation'>Reconciliation extracts</h2><table><tr><th>extract</th><th>rows</th>"
        "<th>control totals</th><th>Parquet sha256</th><th>CSV sha256</th></tr>"
        + "".join(
            f"<tr><td>{e(k)}</td><td>{v['rows']}</td><td><code>{e(json.dumps(v['control_totals'], sort_keys=True))}"
            f"</code></td><td><code>{e(v['parquet_sha256'][:16])}</code></td><td><code>{e(v['csv_sha256'][:16])}"
            f"</code></td></tr>"
            for k, v in sorted(index["reconciliation"].items())
        )
        + "</table>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
