"""Auditor reports of a business day: one index page linking every file's validation report, its lineage,
the SLA report, the reconciliation control totals and the KPIs - HTML and JSON, no PHI.

``revcycle audit-report --date D`` writes ``reports/audit/D/``:
    index.html / index.json        the day: first a one-screen verdict (files in, posted, quarantined with
                                   reasons; every tie-out pass/fail; the queue by owner; SLA breaches; KPIs
                                   against include/config/kpi_thresholds.csv), then runs, files, checks,
                                   totals, the latency chart; rendered from templates/audit_index.html.j2
                                   (Jinja2, autoescaped, self-contained: no script, no CDN)
    sla.json                       per task p50/p95/max vs threshold, breaches, landed -> posted per file
    lineage/<sha256>.json          that file's OpenLineage events (from the lineage log)
Per-file validation reports (``reports/validation/D/<sha256>.html|json``) are written once by the
validate step, and their sha256 is in the ledger; the index shows it and checks it again.  Everything
shown comes from the ledger, ops and the reports themselves: counts, identifiers, codes, money totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import math
import os
from decimal import Decimal
from pathlib import Path

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for, query
from revcycle.adapters.lake import Lake
from revcycle.adapters.objectstore import keep_tree, kept_location, sha256_location
from revcycle.jobs import kpi, lineage, pages, reconciliation, sla
from revcycle.settings import CONFIG_DIR, get_settings


def _lineage_for_file(sha256: str, events: list[dict], folder: Path) -> str | None:
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
    day_rows = ledger.for_day(day)
    events = lineage.events_for_files({r["sha256"] for r in day_rows})  # the lineage log read once
    for row in day_rows:
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
                "outputs": [{"path": o, "dataset": _dataset(o), "sha256": lake.sha256(o)} for o in outputs],
                "lineage": _lineage_for_file(full["sha256"], events[full["sha256"]], folder / "lineage"),
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
    index["verdict"] = verdict(index, reconciliation.queue_movements(day))
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


def _dataset(location: str) -> str:
    """The lake dataset a published object belongs to: the folder above its partitions."""
    parts = str(location).split("/")
    return next((parts[i - 1] for i, p in enumerate(parts) if p.startswith("business_date=") and i), parts[-1])


# -- the verdict ------------------------------------------------------------------------------------------
def kpi_thresholds() -> dict[str, dict]:
    with open(CONFIG_DIR / "kpi_thresholds.csv", newline="") as fh:
        return {r["kpi"]: r for r in csv.DictReader(fh)}


def kpi_status(value: Decimal | None, limits: dict | None) -> str:
    """ok, warn (past the target) or alert (past the alert level); 'not measured' without a value."""
    if value is None:
        return "not measured"
    if not limits:
        return "ok"
    worse = (lambda a, b: a > b) if limits["worse_when"] == "above" else (lambda a, b: a < b)
    return (
        "alert"
        if worse(value, Decimal(limits["alert"]))
        else "warn"
        if worse(value, Decimal(limits["target"]))
        else "ok"
    )


def verdict(index: dict, queue: dict) -> dict:
    """The one-screen answer for an auditor: what came in and what happened to it, every tie-out, the queue by
    owner, SLA breaches and the KPIs against their thresholds, and a list of what needs attention."""
    files = index["files"]
    by_state: dict[str, int] = {}
    for f in files:
        by_state[f["state"]] = by_state.get(f["state"], 0) + 1
    quarantined = [
        {"source": f["source"], "file": f["original_name"], "reason": f["reason"]}
        for f in files
        if f["state"] == "quarantined"
    ]
    ties = [t for r in index["reconciliation"].values() for t in r["control_totals"].get("ties", [])]
    limits = kpi_thresholds()
    kpis = []
    for k in index["kpis"]:
        value = None if k["value"] is None else Decimal(k["value"])
        lim = limits.get(k["kpi"])
        kpis.append(
            {
                **k,
                "status": kpi_status(value, lim),
                "shown": kpi_value(value, k["unit"]),
                "target_shown": kpi_value(Decimal(lim["target"]), k["unit"]) if lim else "",
                "alert_shown": kpi_value(Decimal(lim["alert"]), k["unit"]) if lim else "",
                "limits": f"{kpi_value(Decimal(lim['target']), k['unit'])} / {kpi_value(Decimal(lim['alert']), k['unit'])}"
                if lim
                else "",
            }
        )
    failed_tasks = sum(int(r["failed"] or 0) for r in index["runs"])
    breaches = len(index["sla"]["breaches"])
    changed = [f["original_name"] for f in files if f["report"] and f["report_sha256_now"] != f["report_sha256_ledger"]]
    problems = []
    if quarantined:
        problems.append(f"{len(quarantined)} of {len(files)} files quarantined")
    if failed_tasks:
        problems.append(f"{failed_tasks} task tries failed")
    if breaches:
        problems.append(f"{breaches} SLA breaches")
    problems += [
        f"tie-out failed: {t['extract']} {t['column']} off by {t['difference']} against {t['source']}"
        for t in ties
        if t["tie_out"] == "fail"
    ]
    if not index["reconciliation"]:
        problems.append("no reconciliation run for the day")
    problems += [
        f"{k['kpi']} {k['shown']} is past its alert level {k['alert_shown']}" for k in kpis if k["status"] == "alert"
    ]
    problems += [f"validation report of {name} changed since it was written" for name in changed]
    return {
        "headline": (
            f"Needs attention: {len(problems)} finding{'s' if len(problems) > 1 else ''}"
            if problems
            else "All checks passed"
            + (
                f" ({warned} KPI{'s' if warned > 1 else ''} past target)"
                if (warned := sum(k["status"] == "warn" for k in kpis))
                else ""
            )
        ),
        "problems": problems,
        "files": {"total": len(files), "by_state": dict(sorted(by_state.items())), "quarantined": quarantined},
        "runs": {"total": len(index["runs"]), "failed_tasks": failed_tasks},
        "sla_breaches": breaches,
        "ties": ties,
        "exceptions": queue,
        "kpis": kpis,
    }


# -- the page ---------------------------------------------------------------------------------------------
def kpi_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit in ("count", "items"):
        return f"{value:,.0f}"
    if unit == "amount":
        return f"{value:,.2f}"
    return f"{value:,.1f} {unit}"


def _amount(value: object) -> str:
    """A control total as read: money with separators, counts as counts, small structures flattened."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {_amount(v)}" for k, v in value.items())
    text = str(value)
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return f"{number:,.2f}" if "." in text else f"{number:,.0f}"


def _seconds(value: object) -> str:
    if value is None:
        return ""
    secs = float(value)
    if secs < 60:
        return f"{secs:.1f} s"
    if secs < 3600:
        return f"{secs / 60:.1f} min"
    return f"{secs / 3600:.1f} h"


def _minutes(value: object) -> str:
    return "" if value is None else _seconds(float(value) * 60)


def _when(value: object) -> str:
    """A timestamp to the second, in UTC as recorded."""
    return "" if not value else str(value).replace("T", " ")[:19]


TICKS = {0.01: "0.01 s", 0.1: "0.1 s", 1: "1 s", 10: "10 s", 60: "1 min", 600: "10 min", 3600: "1 h", 36000: "10 h"}


def latency_chart(tasks: list[dict], width: int = 1180) -> str:
    """SVG: per task a p95 bar, a tick at the slowest try and a red line at its threshold, on a logarithmic
    seconds axis (seconds of work and minutes of SLA read on one chart)."""
    if not tasks:
        return "<p>No task latency recorded for the day.</p>"
    label, right, row, top = 300, 20, 20, 8
    values = [v for t in tasks for v in (t["p95"], t["max"], t["threshold"]) if v and v > 0]
    lo = 10 ** math.floor(math.log10(min(values + [1.0])))
    hi = 10 ** math.ceil(math.log10(max(values)))
    span = width - label - right

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return label + span * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    height = top + row * len(tasks) + 34
    parts = [
        f"<svg id='latency-chart' viewBox='0 0 {width} {height}' width='100%' role='img' "
        "aria-label='Task latency p95 against SLA threshold, logarithmic seconds axis'>"
    ]
    ticks = {t: name for t, name in TICKS.items() if lo <= t <= hi}
    axis_y = top + row * len(tasks) + 4
    for t, name in ticks.items():
        parts.append(
            f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top - 4}' y2='{axis_y}' stroke='#e3e3e3'/>"
            f"<text x='{x(t):.1f}' y='{axis_y + 14}' font-size='11' text-anchor='middle'>{name}</text>"
        )
    parts.append(f"<line x1='{label}' x2='{width - right}' y1='{axis_y}' y2='{axis_y}' stroke='#555'/>")
    parts.append(
        f"<text x='{label + span / 2:.0f}' y='{axis_y + 28}' font-size='11' text-anchor='middle'>"
        "task duration (log scale)</text>"
    )
    for i, t in enumerate(tasks):
        y = top + i * row
        colour = "#c62828" if t["breaches"] else "#2e7d32"
        name = html.escape(f"{t['dag_id']}.{t['task_id']}")
        parts.append(
            f"<g class='task'><title>{name}: p95 {_seconds(t['p95'])}, max {_seconds(t['max'])}, "
            f"threshold {_seconds(t['threshold'])}</title>"
            f"<text x='{label - 6}' y='{y + 12}' font-size='11' text-anchor='end'>{name}</text>"
            f"<rect x='{label}' y='{y + 3}' height='11' width='{max(x(t['p95']) - label, 1):.1f}' fill='{colour}'/>"
            f"<line x1='{x(t['max']):.1f}' x2='{x(t['max']):.1f}' y1='{y + 1}' y2='{y + 16}' stroke='#333'/>"
            f"<line x1='{x(t['threshold']):.1f}' x2='{x(t['threshold']):.1f}' y1='{y}' y2='{y + 17}' "
            "stroke='#d50000' stroke-width='2'/></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


_ENV = pages.environment(Path(__file__).parent / "templates")
_ENV.filters.update(
    amount=_amount,
    seconds=_seconds,
    minutes=_minutes,
    when=_when,
    count=lambda v: "" if v is None else f"{int(v):,}",
    removeprefix=lambda text, prefix: str(text).removeprefix(prefix),
)


def render(index: dict, folder: Path) -> str:
    files = []
    for f in index["files"]:
        rep = _rel(f["report"], folder)
        files.append(
            {
                **f,
                "report_link": rep[:-5] + ".html" if rep else None,
                "report_json_link": rep,
                "acknowledgements": [
                    {"link": _rel(a["path"], folder), "name": Path(a["path"]).name} for a in f["acknowledgements"]
                ],
            }
        )
    reconciliation_rows = {
        name: {
            **r,
            "breakdown": next(
                (v for k, v in r["control_totals"].items() if k.startswith("by_") and isinstance(v, dict)), {}
            ),
        }
        for name, r in sorted(index["reconciliation"].items())
    }
    return _ENV.get_template("audit_index.html.j2").render(
        day=index["business_date"],
        verdict=index["verdict"],
        files=files,
        runs=index["runs"],
        sla=index["sla"],
        chart=latency_chart(index["sla"]["tasks"]),
        reconciliation=reconciliation_rows,
        finance_folder=kept_location(get_settings().outbound / "finance" / index["business_date"]),
    )
