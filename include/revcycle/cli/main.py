"""The ``revcycle`` command line: operator verbs over the same package the DAGs call."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import click


class BusinessDate(click.ParamType):
    """A business date: ``YYYY-MM-DD`` (a real calendar day), ``today`` or ``yesterday``; anything else is a
    one-line usage error naming the form, never a traceback."""

    name = "date"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip().lower()
        if text in ("today", "yesterday"):
            return dt.date.today() - dt.timedelta(days=1 if text == "yesterday" else 0)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                self.fail(f"{value!r} is not a day of the calendar (YYYY-MM-DD)", param, ctx)
        self.fail(f"expected YYYY-MM-DD (e.g. 2026-11-24), 'today' or 'yesterday', got {value!r}", param, ctx)


DATE = BusinessDate()


@click.group()
def main() -> None:
    """revcycle: governed revenue-cycle integration pipelines."""


@main.command()
@click.option("--date", "day", type=DATE, default="yesterday", show_default=True, help="Business date (YYYY-MM-DD).")
@click.option("--claims", type=click.IntRange(min=1), default=2000, show_default=True, help="835 claims to generate.")
@click.option("--seed", default=42, show_default=True, help="Generator seed: the same seed, the same day.")
@click.option("--supply-messages", type=click.IntRange(min=0), default=None, help="DFT messages (default claims/2).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Folder (default: the inbound folder).")
def generate(day: dt.date, claims: int, seed: int, supply_messages: int | None, out: Path | None) -> None:
    """Write a seeded synthetic business day and its ground-truth manifest."""
    from revcycle.settings import get_settings
    from revcycle.synthetic.day import GeneratedDayConflict, generate_day, refuse_a_different_day

    target = out or get_settings().inbound
    try:
        refuse_a_different_day(target, day, claims, seed, supply_messages)
    except GeneratedDayConflict as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(
        length=claims + (supply_messages or max(5, claims // 2)) + claims, label="generating", file=sys.stderr
    ) as bar:
        manifest = generate_day(target, day, claims, seed, supply_messages, progress=lambda what, n: bar.update(n))
    click.echo(
        json.dumps({"out": str(target), "files": len(manifest["files"]), "totals": manifest["totals"]}, indent=2)
    )


@main.command("run-day")
@click.option("--date", "day", type=DATE, default="yesterday", show_default=True, help="Business date (YYYY-MM-DD).")
@click.option("--claims", type=click.IntRange(min=1), default=2000, show_default=True, help="835 claims to generate.")
@click.option("--seed", default=42, show_default=True, help="Generator seed: the same seed, the same day.")
@click.option("--no-generate", is_flag=True, help="Process what is already in the inbound folder.")
@click.option(
    "--mixed",
    is_flag=True,
    help="Generate with the trouble of real days: a re-sent file, a duplicate payment, a malformed file of "
    "each kind, a late file (revcycle.synthetic.mixed).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--on",
    "where",
    type=click.Choice(["embedded", "cluster"]),
    default="embedded",
    show_default=True,
    help="embedded: `airflow dags test` in this process's home; cluster: the running `revcycle cluster`.",
)
def run_day(day: dt.date, claims: int, seed: int, no_generate: bool, mixed: bool, as_json: bool, where: str) -> None:
    """Generate a business day and run every DAG for it through Airflow, then summarise."""
    if where == "cluster":
        from revcycle.airflow.cluster import run_day as _run
    else:
        from revcycle.airflow.runtime import run_day as _run

    from revcycle.synthetic.day import GeneratedDayConflict

    try:
        summary = _run(day, claims, seed, not no_generate, lambda m: click.echo(m, err=True), mixed=mixed)
    except (RuntimeError, GeneratedDayConflict) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    if not all(r["success"] for r in summary["dag_runs"]):
        sys.exit(1)


def format_summary(s: dict) -> str:
    from revcycle.pipeline.summary import describe_effect

    if s.get("nothing_run") and not s["files_in"]:
        return s["nothing_run"]  # a day with no data: one line
    lines = [f"Business day {s['business_date']}"]
    if s.get("this_run"):
        lines.append(f"  this run:        {describe_effect(s['this_run'])}")
    if s.get("nothing_run"):
        lines.append(f"  {s['nothing_run']}")
    lines += [
        "The day:",
        f"  files in:        {s['files_in']} ({', '.join(f'{k} {v}' for k, v in sorted(s['files_by_source'].items()))}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(s["files_by_state"].items())),
        f"  rows published:  {s['rows_published']}",
        f"  amount posted:   {s['amount_posted']} in {s['receipts_posted']} cash receipts "
        f"(journals: debits {s['journal_debits']} = credits {s['journal_credits']})",
    ]
    lines.append(
        f"  claim statuses:  {s['claim_status_events']} events, {s['claims_with_status']} claims updated "
        f"({s['claims_final']} final)"
    )
    i = s["inquiries_276"]
    lines.append(
        f"  276 inquiries:   {i['inquiries']} claims in {i['files']} files; 999 answers: "
        f"{i['accepted']} accepted, {i['rejected']} rejected, {i['awaiting_ack']} awaiting"
    )
    u = s["supply"]
    lines.append(
        f"  supply usage:    {u['usage_lines_posted']} lines issued to cost centers ({u['usage_cost']}), "
        f"{u['replenishment_requests']} consignment replenishments"
    )
    lines.append(f"  invoice match:   {u['invoice_lines_matched']} matched, {u['invoice_exceptions']} exceptions")
    e, today = s["exceptions_open"], s.get("exceptions_today", {})
    lines.append(
        f"  exceptions:      {today.get('new', 0)} new today, {today.get('closed', 0)} closed today; "
        f"{sum(e.values())} open in all (" + ", ".join(f"{owner} {n}" for owner, n in sorted(e.items())) + ")"
    )
    q = s["quarantined"]
    lines.append(f"  quarantined:     {len(q)}")
    lines += [f"    - {x['source']}: {x['file']}: {x['reason']}" for x in q]
    lines.append(f"  SLA breaches:    {s['sla_breaches']} (report: revcycle audit-report --date {s['business_date']})")
    lines.append(
        "  DAG runs:        "
        + ", ".join(
            f"{r['dag_id']} {'ok' if r['success'] else 'FAILED'} ({r['seconds']}s)" for r in s.get("dag_runs", [])
        )
    )
    if s.get("cluster"):
        c = s["cluster"]
        lines.append(
            f"  cluster:         {c['seconds']}s through {c['api']}; task instances by worker: "
            + ", ".join(f"{host} {n}" for host, n in sorted(c["task_instances_by_worker"].items()))
        )
    lines.append("Outputs:")
    lines += [f"  {k + ':':18} {v}" for k, v in s["outputs"].items()]
    return "\n".join(lines)


@main.command()
@click.option("--date", "day", type=DATE, default="yesterday", show_default=True, help="Business date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(day: dt.date, as_json: bool) -> None:
    """The ingestion ledger for a business day."""
    from revcycle.adapters import ledger

    rows = ledger.for_day(day)
    if as_json:
        click.echo(json.dumps([_nested(r) for r in rows], indent=2, default=str))
        return
    if not rows:
        click.echo(f"no files in the ledger for {day}")
        return
    click.echo(
        _table(
            ["sha256", "source", "state", "reason", "file"],
            [[r["sha256"][:12], r["source"], r["state"], r["reason"] or "", r["original_name"]] for r in rows],
        )
    )


def _nested(row: dict) -> dict:
    """A ledger row for --json: its JSON columns as objects and its acknowledgements as a list."""
    out = dict(row)
    for key in ("row_counts", "control_totals", "outputs"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    if "ack_path" in out:
        out["ack_path"] = [a for a in (out["ack_path"] or "").split(",") if a]
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Columns as wide as their widest cell, a header and a rule; the last column is left ragged."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(w) for cell, w in zip(line[:-1], widths[:-1], strict=True)) + "  " + str(line[-1])
        for line in lines
    )


@main.group()
def quarantine() -> None:
    """Quarantined files: list them, release one after a fix."""


@quarantine.command("list")
@click.option("--date", "day", type=DATE, default=None, help="Only this business date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def quarantine_list(day: dt.date | None, as_json: bool) -> None:
    """Quarantined files with their reasons (all days, or one)."""
    from revcycle.adapters import ledger

    rows = ledger.quarantined(day)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo(f"no quarantined files{f' for {day}' if day else ''}")
    for r in rows:
        click.echo(
            f"{r['sha256'][:12]}  {str(r['business_date'])[:10]}  {r['source']:<12} {r['reason']:<24} "
            f"{r['original_name']}\n    {r['detail'] or ''}"
        )


@quarantine.command("release")
@click.argument("sha256_prefix")
def quarantine_release(sha256_prefix: str) -> None:
    """Re-queue a quarantined file (by sha256 or a unique prefix); the next run processes it once."""
    from revcycle.adapters import ledger

    prefix = sha256_prefix.strip().lower()
    matches = [r for r in ledger.quarantined() if r["sha256"].startswith(prefix)]
    if not matches:
        known = ledger.matching(prefix)
        if len(known) == 1:
            raise click.ClickException(
                f"{known[0]['sha256'][:12]} ({known[0]['original_name']}) is not quarantined: it is {known[0]['state']}"
            )
        raise click.ClickException(
            f"no quarantined file's sha256 starts with {sha256_prefix!r} (revcycle quarantine list)"
        )
    if len(matches) > 1:
        raise click.ClickException(f"{len(matches)} quarantined files match {sha256_prefix!r}; give more of the sha256")
    row = matches[0]
    ledger.release(row["sha256"])
    day = str(row["business_date"])[:10]
    click.echo(
        f"released {row['sha256'][:12]} ({row['original_name']}); "
        f"process it with: revcycle run-day --date {day} --no-generate"
    )


@main.command()
@click.option("--date", "day", type=DATE, required=True, help="Business date (YYYY-MM-DD).")
def replay(day: dt.date) -> None:
    """Re-run a business day: every posted file of the day is processed again; nothing changes downstream."""
    from revcycle.adapters import ledger
    from revcycle.airflow.runtime import replay_day

    n = ledger.requeue_posted(day)
    click.echo(f"re-queued {n} posted files of {day}", err=True)
    summary = replay_day(day, lambda m: click.echo(m, err=True))
    click.echo(format_summary(summary))
    if not all(r["success"] for r in summary["dag_runs"]):
        sys.exit(1)


@main.command()
@click.option("--yes", is_flag=True, help="Remove without asking (scripts).")
def reset(yes: bool) -> None:
    """Start over: remove this home's working folders and embedded databases (listed first, then confirmed)."""
    from revcycle.airflow.runtime import reset_targets

    targets, untouched = reset_targets()
    for note in untouched:
        click.echo(f"not touched: {note}")
    if not targets:
        click.echo("nothing to remove")
        return
    click.echo("will remove:")
    for path in targets:
        click.echo(f"  {path}")
    if not yes and not click.confirm("remove these?", default=False):
        click.echo("nothing removed")
        return
    import shutil

    for path in targets:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    click.echo(f"removed {len(targets)} paths; the next run-day starts from an empty home")


@main.group()
def storage() -> None:
    """Where the pipeline keeps its files (REVCYCLE_STORAGE_URL, or local folders)."""


@storage.command("init")
def storage_init() -> None:
    """Create the configured buckets that are missing (a deployment's first start)."""
    from revcycle.adapters.objectstore import ensure_buckets
    from revcycle.settings import get_settings

    created = ensure_buckets()
    s = get_settings()
    click.echo(f"raw zone {s.raw_root}, lake {s.lake_root}; created: {', '.join(created) or 'nothing (all there)'}")


@main.group()
def cluster() -> None:
    """A real distributed Airflow here: api-server, scheduler, dag-processor, triggerer, two Celery workers,
    S3 (SeaweedFS); PostgreSQL and Redis are the local servers."""


@cluster.command("up")
@click.option("--fresh", is_flag=True, help="Start from empty databases, broker db, bucket and folders.")
def cluster_up(fresh: bool) -> None:
    """Start the cluster and wait until the API answers, the DAGs are parsed and both workers are ready."""
    from revcycle.airflow import cluster as _cluster

    try:
        _cluster.up(lambda m: click.echo(m, err=True), fresh=fresh)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@cluster.command("down")
@click.option("--wipe", is_flag=True, help="Also drop the cluster's databases, broker db, S3 data and folders.")
def cluster_down(wipe: bool) -> None:
    """Stop every process the cluster started, by PID (task tries included)."""
    from revcycle.airflow import cluster as _cluster

    _cluster.down(lambda m: click.echo(m, err=True), wipe_data=wipe)


@cluster.command("status")
def cluster_status() -> None:
    """Each cluster process with its PID, and the health of every Airflow component."""
    from revcycle.airflow import cluster as _cluster

    click.echo(json.dumps(_cluster.status(), indent=2))


@cluster.command("restart")
@click.argument("component", required=False)
def cluster_restart(component: str | None) -> None:
    """Start COMPONENT again (s3, api-server, scheduler, dag-processor, triggerer, worker1, worker2) if it is
    not running; without one, every component that is not running."""
    from revcycle.airflow import cluster as _cluster

    echo = lambda m: click.echo(m, err=True)  # noqa: E731
    try:
        _cluster.restart(component, echo) if component else _cluster.heal(echo)
    except (RuntimeError, KeyError) as exc:
        raise click.ClickException(f"cannot restart {component or 'the cluster'}: {exc}") from None


@cluster.command("chaos")
@click.option("--fault", "faults", multiple=True, help="A fault to inject (repeatable; default: every fault).")
@click.option("--trials", type=int, default=3, show_default=True, help="Times each fault is injected.")
@click.option("--claims", type=int, default=300, show_default=True, help="Claims of each business day.")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed of every day.")
@click.option(
    "--first-day",
    type=DATE,
    default="2026-11-02",
    show_default=True,
    help="Trials run consecutive days (after the DAGs start on 2026-11-01).",
)
@click.option("--work", type=click.Path(path_type=Path), required=True, help="Folder for the embedded comparison.")
@click.option("--out", type=click.Path(path_type=Path), help="Write every trial's row here as JSON.")
def cluster_chaos(
    faults: tuple[str, ...], trials: int, claims: int, seed: int, first_day: dt.date, work: Path, out: Path | None
) -> None:
    """Inject faults into the running cluster while business days run, recover as an operator would, and
    check each day against the embedded run of the same day (docs/reliability.md)."""
    from revcycle.airflow import chaos

    unknown = sorted(set(faults) - set(chaos.FAULTS))
    if unknown:
        raise click.ClickException(f"unknown fault {', '.join(unknown)}; known: {', '.join(chaos.FAULTS)}")
    rows = chaos.run_matrix(
        list(faults or chaos.FAULTS), trials, claims, seed, first_day, work, lambda m: click.echo(m, err=True)
    )
    if out:
        out.write_text(json.dumps(rows, indent=2, default=str))
    click.echo(chaos.table(rows))
    if not all(r["passed"] for r in rows):
        raise SystemExit(1)


@cluster.command("soak")
@click.option("--days", type=int, default=10, show_default=True, help="Consecutive business days.")
@click.option("--claims", type=int, default=300, show_default=True, help="Claims of each business day.")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed of every day.")
@click.option("--first-day", type=DATE, default="2026-11-02", show_default=True, help="The first business day.")
@click.option("--work", type=click.Path(path_type=Path), required=True, help="Folder for the embedded comparison.")
@click.option("--out", type=click.Path(path_type=Path), help="Write every day's row here as JSON.")
def cluster_soak(days: int, claims: int, seed: int, first_day: dt.date, work: Path, out: Path | None) -> None:
    """Run mixed business days (re-sent, duplicate, malformed and late files) on the running cluster and the
    embedded default, and check totals, exceptions, lake digests, work-queue decisions and memory each day."""
    from revcycle.airflow import soak

    result = soak.run(days, claims, seed, first_day, work, lambda m: click.echo(m, err=True))
    if out:
        out.write_text(json.dumps(result, indent=2, default=str))
    click.echo(soak.table(result))
    if not result["passed"]:
        raise SystemExit(1)


@main.command("audit-report")
@click.option("--date", "day", type=DATE, default="yesterday", show_default=True, help="Business date (YYYY-MM-DD).")
def audit_report(day: dt.date) -> None:
    """Build the day's auditor report: index.html/json, SLA report, per-file lineage, KPIs."""
    from revcycle.jobs.audit import build

    click.echo(str(build(day)))


@main.command()
@click.argument("ref")
def lineage(ref: str) -> None:
    """Where a posted number came from: REF is erp.<table>:<key> or a lake .parquet path."""
    from revcycle.jobs.provenance import trace

    try:
        click.echo(json.dumps(trace(ref), indent=2))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def airflow(args: tuple[str, ...]) -> None:
    """Run an Airflow CLI command on the project's Airflow home, e.g. `revcycle airflow standalone`."""
    import os

    from revcycle.airflow.runtime import RUN_ORDER, _airflow_bin, airflow_env, ensure_airflow_home

    # `dags <verb> <dag_id>`: name a DAG of ours, or say which there are (Airflow would answer with a traceback).
    if len(args) >= 3 and args[0] == "dags" and not args[2].startswith("-") and args[2] not in RUN_ORDER:
        raise click.ClickException(f"no DAG {args[2]!r}; the DAGs are: {', '.join(sorted(RUN_ORDER))}")
    env = airflow_env()
    ensure_airflow_home(env, lambda m: click.echo(m, err=True))
    command = _airflow_bin()
    os.execvpe(command[0], [*command, *args], env)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--date", "day", type=DATE, default=None, help="Business date for code-list versions (default today).")
@click.option(
    "--gx", is_flag=True, help="Validate with Great Expectations itself (slower to start; the same decision)."
)
def inspect(path: Path, as_json: bool, day: dt.date | None, gx: bool) -> None:
    """The pipeline's decision for one inbound file of any type (835, 277, 999, 276, HL7, CSV): exit 0 accepted, 2
    would be quarantined."""
    from revcycle.jobs.inspect import inspect_path

    result = inspect_path(path, day, gx)
    click.echo(json.dumps(result, indent=2) if as_json else _inspect_text(result))
    sys.exit(2 if result.get("quarantine") else 0)


def _inspect_text(r: dict) -> str:
    """Readable lines: the type, what was read, refused messages or rows, and the decision."""
    kind = r.get("type") or "unknown"
    lines = [
        f"type {kind}"
        + (f" (source {r['source']})" if r.get("source") else "")
        + (f", interchanges {r['interchanges']}" if r.get("interchanges") else "")
    ]
    totals = r.get("totals", {})
    if "messages" in totals:  # HL7: the unit of acceptance is the message
        acks = ", ".join(f"{code} {n}" for code, n in sorted(totals.get("acks", {}).items()))
        lines.append(f"  messages {totals['messages']} ({acks})")
    elif "rows" in totals:  # a CSV export: the unit is the row
        lines.append(f"  rows {totals['rows']}")
    for t in r.get("transactions", []):
        if "bpr02" in t:
            balanced = ", ".join(f"{level} {'yes' if ok else 'NO'}" for level, ok in t.get("balanced", {}).items())
            lines.append(
                f"  ST {t['st02']}: {t['claims']} claims, BPR02 {t['bpr02']}, sum CLP04 {t['sum_clp04']}, "
                f"sum PLB {t['sum_plb']}; balanced: {balanced}"
            )
        else:
            counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in t.items() if k != "st02")
            lines.append(f"  ST {t['st02']}: {counts}")
    for name, count in sorted(r.get("rows", {}).items()):
        if not name.startswith("check__"):
            lines.append(f"  {name}: {count} rows")
    for item in r.get("rejected", []):
        where = f"message {item['seq']}" if "seq" in item else f"line {item.get('line')}"
        lines.append(f"  refused {where}: {item['reason']}")
    if r.get("warnings"):
        lines.append(f"  warnings: {', '.join(r['warnings'])}")
    q = r.get("quarantine")
    lines.append(f"decision: quarantine, {q['reason']} - {q['detail']}" if q else "decision: accept")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
