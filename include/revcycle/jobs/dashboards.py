"""Business dashboards over business days: each governance KPI as a trend with its target and alert level,
plus SLA breaches by DAG, failed claim handoffs, unmatched ERP updates, denials by CARC and the
reconciliation backlog by age.  Data comes from ``ops`` and the ERP; charts are SVG drawn by matplotlib
on the server (no JavaScript, no CDN: the page is whole when it arrives).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

from revcycle.adapters.db import as_date, engine_for, query
from revcycle.jobs import work_queue
from revcycle.jobs.audit import kpi_status, kpi_thresholds, kpi_value

TITLES = {
    "unposted_payments": "Delayed charges and unposted remittances: unposted payments",
    "charge_lag_days": "Delayed charges: charge lag (usage to ERP)",
    "failed_file_rate": "Failed transaction rate: files quarantined",
    "failed_message_rate": "Failed transaction rate: HL7 messages refused",
    "mean_time_to_detect_minutes": "Mean time to detect (landed to quarantined)",
    "interfaces_monitored_share": "Interfaces monitored",
    "reconciliation_backlog": "Reconciliation backlog (open items)",
    "failed_claim_handoffs": "Failed claim handoffs: rejected 276 sets and 277 rejections",
    "unmatched_erp_updates": "Unmatched ERP updates: cash not tied to bank, invoices not matched to usage",
    "sla_breaches": "SLA breaches by DAG",
    "denials_by_carc": "Failed claim handoffs: denied amount by CARC (top six)",
}
UNMATCHED_CASH = {
    "payment_without_deposit",
    "deposit_amount_difference",
    "deposit_without_remittance",
    "payment_not_in_erp",
    "erp_receipt_difference",
}
UNMATCHED_SUPPLY = {"invoice_without_usage", "usage_without_invoice", "price_mismatch", "quantity_mismatch"}
AGE_BUCKETS = ((7, "0-7 days"), (30, "8-30 days"), (60, "31-60 days"))


def series() -> dict:
    """Every dashboard's data: days, one value per day and series, the unit and the thresholds."""
    with engine_for("ops").connect() as conn:
        kpis = [dict(r) for r in query(conn, "ops/dash_kpis").mappings()]
        breaches = [dict(r) for r in query(conn, "ops/dash_sla_breaches").mappings()]
        recon = [dict(r) for r in query(conn, "ops/dash_recon_runs").mappings()]
    with engine_for("erp").connect() as conn:
        handoffs = [dict(r) for r in query(conn, "erp/dash_handoff_rejections").mappings()]
    days = sorted({as_date(r["business_date"]) for r in kpis + recon})
    limits = kpi_thresholds()
    charts: dict[str, dict] = {}

    def chart(name: str, unit: str, lines: dict[str, dict[dt.date, Decimal | None]], kind: str = "line") -> None:
        lim = limits.get(name)
        last = [v.get(days[-1]) for v in lines.values()] if days else []
        latest = sum((x for x in last if x is not None), Decimal(0)) if any(x is not None for x in last) else None
        charts[name] = {
            "name": name,
            "title": TITLES.get(name, name.replace("_", " ")),
            "unit": unit,
            "kind": kind,
            "days": [d.isoformat() for d in days],
            "lines": {k: [None if v.get(d) is None else str(v[d]) for d in days] for k, v in lines.items()},
            "target": lim["target"] if lim else None,
            "target_shown": kpi_value(Decimal(lim["target"]), unit) if lim else "",
            "alert_shown": kpi_value(Decimal(lim["alert"]), unit) if lim else "",
            "alert": lim["alert"] if lim else None,
            "worse_when": lim["worse_when"] if lim else "above",
            "latest": None if latest is None else str(latest),
            "latest_shown": kpi_value(latest, unit),
            "status": kpi_status(latest, lim) if latest is not None else "not measured",
        }

    by_kpi: dict[str, dict[dt.date, Decimal | None]] = defaultdict(dict)
    units = {}
    for r in kpis:
        by_kpi[r["kpi"]][as_date(r["business_date"])] = None if r["value"] is None else Decimal(str(r["value"]))
        units[r["kpi"]] = r["unit"]
    for name in (
        "unposted_payments",
        "charge_lag_days",
        "failed_file_rate",
        "failed_message_rate",
        "mean_time_to_detect_minutes",
        "reconciliation_backlog",
        "interfaces_monitored_share",
    ):
        chart(name, units.get(name, ""), {name.replace("_", " "): by_kpi.get(name, {})})

    rejections: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for r in handoffs:
        rejections[r["kind"]][as_date(r["business_date"])] = Decimal(r["n"])
    chart("failed_claim_handoffs", "count", _zero_filled(rejections, days), "bar")

    unmatched: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    denials: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for r in recon:
        day, totals = as_date(r["business_date"]), json.loads(r["control_totals"])
        if r["extract"] == "cash":
            n = sum(v for k, v in totals.get("by_status", {}).items() if k in UNMATCHED_CASH)
            unmatched["cash not tied to bank"][day] = Decimal(n)
        elif r["extract"] == "supply":
            n = sum(v for k, v in totals.get("by_status", {}).items() if k in UNMATCHED_SUPPLY)
            unmatched["invoices not matched to usage"][day] = Decimal(n)
        elif r["extract"] == "denials":
            for carc, amount in _denials_by_carc(r["parquet_path"]).items():
                denials[f"CARC {carc}"][day] = amount
    chart("unmatched_erp_updates", "count", _zero_filled(unmatched, days), "bar")
    top = sorted(denials, key=lambda k: -sum(denials[k].values()))[:6]
    chart("denials_by_carc", "amount", _zero_filled({k: denials[k] for k in top}, days), "bar")

    sla: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for r in breaches:
        sla[r["dag_id"]][as_date(r["business_date"])] = Decimal(r["breaches"])
    chart("sla_breaches", "count", _zero_filled(sla, days) or {"all DAGs": dict.fromkeys(days, Decimal(0))}, "bar")

    backlog = _backlog_by_age()
    return {"days": [d.isoformat() for d in days], "charts": charts, "backlog_by_age": backlog}


def _zero_filled(lines: dict[str, dict[dt.date, Decimal]], days: list[dt.date]) -> dict[str, dict[dt.date, Decimal]]:
    return {k: {d: v.get(d, Decimal(0)) for d in days} for k, v in sorted(lines.items())}


def _denials_by_carc(location: str) -> dict[str, Decimal]:
    from revcycle.adapters.lake import Lake

    lake = Lake.configured()
    if not lake.exists(location):
        return {}
    out: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for r in lake.read(location).to_pylist():
        out[r["reason_code"]] += r["amount"] or 0
    return dict(out)


def _backlog_by_age() -> dict:
    listing = work_queue.listing(work_queue.Filters(status="open", sort="age"))
    buckets: dict[str, dict] = {label: {"items": 0, "amount": Decimal("0.00")} for _, label in AGE_BUCKETS}
    buckets["61+ days"] = {"items": 0, "amount": Decimal("0.00")}
    for it in listing["items"]:
        label = next((lb for limit, lb in AGE_BUCKETS if it["age_days"] <= limit), "61+ days")
        buckets[label]["items"] += 1
        buckets[label]["amount"] += it["amount_at_stake"]
    return {k: {"items": v["items"], "amount": str(v["amount"])} for k, v in buckets.items()}


# -- drawing ---------------------------------------------------------------------------------------------
def svg(chart: dict) -> str:
    """One chart as an SVG document: the trend per series over business days, the target (dashed) and alert
    (solid red) lines, labelled axes."""
    import matplotlib
    from matplotlib.figure import Figure  # a bare Figure: no pyplot, no GUI backend, nothing to close

    fig = Figure(figsize=(5.6, 2.6), dpi=96)
    ax = fig.add_subplot()
    days = chart["days"]
    xs = list(range(len(days)))
    ratio = chart["unit"] == "ratio"
    scale = 100 if ratio else 1
    if chart["kind"] == "bar" and chart["lines"]:
        bottom = [0.0] * len(days)
        for name, values in chart["lines"].items():
            ys = [float(v or 0) * scale for v in values]
            ax.bar(xs, ys, bottom=bottom, label=name, width=0.6)
            bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
    else:
        for name, values in chart["lines"].items():
            pts = [(x, float(v) * scale) for x, v in zip(xs, values, strict=True) if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    for level, style, colour in (("target", "--", "#8a5a00"), ("alert", "-", "#c62828")):
        if chart.get(level) is not None:
            y = float(chart[level]) * scale
            ax.axhline(
                y,
                linestyle=style,
                color=colour,
                linewidth=1.2,
                label=f"{level} {kpi_value(Decimal(chart[level]), chart['unit'])}",
            )
    ax.set_xticks(xs, [d[5:] for d in days], fontsize=8)
    ax.set_xlabel("business day", fontsize=8)
    ax.set_ylabel("%" if ratio else chart["unit"] or "value", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#e5e5e5")
    if chart["lines"] or chart.get("target") is not None:
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text: readable, searchable, smaller
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]
