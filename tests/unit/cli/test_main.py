"""The revcycle command line: inspect, generate, status, quarantine list/release."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from click.testing import CliRunner

from revcycle.cli.main import main
from tests.conftest import FIXTURES, sample_files

FIX = FIXTURES / "x12" / "835"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_inspect_accepted_file():
    result = run("inspect", str(FIX / "paid-claims-four-cas-groups.835"), "--json", "--date", "2026-11-20")
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert {k: out[k] for k in ("type", "source", "interchanges", "transactions", "warnings", "quarantine")} == {
        "type": "835",
        "source": "remittance",
        "interchanges": 1,
        "transactions": [
            {
                "st02": "0001",
                "claims": 2,
                "bpr02": "348.50",
                "sum_clp04": "370",
                "sum_plb": "21.5",
                "balanced": {"service_line": True, "claim": True, "transaction": True},
            }
        ],
        "warnings": [],
        "quarantine": None,
    }
    assert out["rows"]["canonical__claim_payment"] == 2 and out["rejected"] == []
    text = run("inspect", str(FIX / "paid-claims-four-cas-groups.835"), "--date", "2026-11-20").output
    assert "{" not in text and "'" not in text  # readable lines, no Python reprs
    assert "ST 0001: 2 claims, BPR02 348.50" in text and text.rstrip().endswith("decision: accept")


@pytest.mark.parametrize("name,reason", [("unbalanced-transaction.835", "UNBALANCED_TRANSACTION")])
def test_inspect_would_quarantine(name, reason):
    result = run("inspect", str(FIX / name), "--json", "--date", "2026-11-20")
    assert result.exit_code == 2
    out = json.loads(result.output)
    assert out["quarantine"]["reason"] == reason
    assert out["transactions"][0]["balanced"]["transaction"] is False
    for phi in ("SYNTHELM", "HARPER", "ZZ000000008", "PCN0008"):
        assert phi not in result.output


def test_inspect_truncated_and_unknown(tmp_path):
    bad = tmp_path / "t.835"
    bad.write_bytes((FIX / "paid-claims-four-cas-groups.835").read_bytes()[:600])
    out = run("inspect", str(bad), "--json")
    assert out.exit_code == 2 and json.loads(out.output)["quarantine"]["reason"] == "TRUNCATED"
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    out = run("inspect", str(other), "--json")
    assert out.exit_code == 2 and json.loads(out.output)["quarantine"]["reason"] == "UNKNOWN_FILE_TYPE"


@pytest.mark.samples
@pytest.mark.parametrize("path", sample_files("x12/835"), ids=lambda p: getattr(p, "name", "samples-absent"))
def test_inspect_agrees_with_the_pipeline_on_samples(path):
    from tests.integration.test_remittance_steps import SAMPLE_OUTCOMES

    state, reason = SAMPLE_OUTCOMES[path.name]
    result = run("inspect", str(path), "--json", "--date", "2026-11-24")
    out = json.loads(result.output)
    assert (out["quarantine"] or {}).get("reason") == reason
    assert result.exit_code == (2 if reason else 0)


def test_generate_status_quarantine_release(rc_home):
    out = run("generate", "--date", "2026-11-24", "--claims", "40", "--seed", "1")
    assert json.loads(out.output[out.output.index("{") :])["files"] >= 6
    from revcycle.settings import get_settings
    from tests.pipeline_helpers import run_source

    shutil.copy(FIX / "unbalanced-transaction.835", get_settings().inbound / "remittance" / "u.835")
    import datetime as dt

    run_source("remittance", dt.date(2026, 11, 24))
    status = run("status", "--date", "2026-11-24")
    assert status.output.count("posted") == 4 and "UNBALANCED_TRANSACTION" in status.output
    lines = status.output.splitlines()
    assert lines[0].split() == ["sha256", "source", "state", "reason", "file"] and set(lines[1]) == {"-", " "}
    # Aligned: every column starts where its header does.
    starts = [lines[0].index(h) for h in ("source", "state", "reason", "file")]
    quarantined_line = next(line for line in lines if "UNBALANCED_TRANSACTION" in line)
    assert [quarantined_line.index(v) for v in ("remittance", "quarantined", "UNBALANCED", "u.835")] == starts
    # --json: objects, not JSON strings inside JSON.
    rows = json.loads(run("status", "--date", "2026-11-24", "--json").output)
    posted = next(r for r in rows if r["state"] == "posted")
    assert isinstance(posted["row_counts"], dict) and isinstance(posted["control_totals"], dict)
    assert isinstance(posted["ack_path"], list) and posted["ack_path"][0].endswith(".999")
    listed = json.loads(run("quarantine", "list", "--json").output)
    assert [q["reason"] for q in listed] == ["UNBALANCED_TRANSACTION"]
    sha = listed[0]["sha256"]
    released = run("quarantine", "release", sha[:10])
    assert released.output == (
        f"released {sha[:12]} (u.835); process it with: revcycle run-day --date 2026-11-24 --no-generate\n"
    )
    assert json.loads(run("quarantine", "list", "--json").output) == []
    assert run("quarantine", "list").output == "no quarantined files\n"
    assert run("quarantine", "list", "--date", "2026-11-24").output == "no quarantined files for 2026-11-24\n"
    # A file that is not quarantined (released now, or posted) is named with its state; an unknown prefix
    # says there is no such quarantined file.
    again = CliRunner().invoke(main, ["quarantine", "release", sha[:10]])
    assert again.exit_code == 1 and again.output == f"Error: {sha[:12]} (u.835) is not quarantined: it is landed\n"
    unknown = CliRunner().invoke(main, ["quarantine", "release", "ffff"])
    assert unknown.exit_code == 1
    assert unknown.output == "Error: no quarantined file's sha256 starts with 'ffff' (revcycle quarantine list)\n"


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--date", "11/29/2026"),
        ("status", "--date", "2026-11-31"),
        ("run-day", "--date", "someday"),
        ("replay", "--date", "20261124"),
        ("audit-report", "--date", "2026-13-01"),
        ("quarantine", "list", "--date", "Nov 24"),
        ("generate", "--claims", "-5"),
        ("generate", "--claims", "0"),
        ("generate", "--supply-messages", "-1"),
    ],
)
def test_bad_input_is_a_one_line_error_not_a_traceback(args, rc_home):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1, result.output
    if "--date" in args:
        assert "YYYY-MM-DD" in error[0] and repr(args[-1]) in error[0]
    else:
        assert "x>=" in error[0]  # the allowed range is named


def test_dates_in_words_and_iso(rc_home):
    import datetime as dt

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert run("status", "--date", "yesterday").output == f"no files in the ledger for {yesterday}\n"
    assert run("status", "--date", "2026-11-24").output == "no files in the ledger for 2026-11-24\n"
    assert run("status").output == f"no files in the ledger for {yesterday}\n"  # the default


def test_inspect_reads_a_276_with_the_inquiry_mapper(tmp_path):
    """A 276 is what the pipeline sends; inspect says whether it reads back, set by set."""
    from tests.unit.x12.test_inquiry_276 import claims, write

    text, _ = write(claims(3), per_set=2)
    path = tmp_path / "out.276"
    path.write_text(text)
    result = run("inspect", str(path), "--json")
    out = json.loads(result.output)
    assert result.exit_code == 0 and out["type"] == "276" and out["quarantine"] is None
    assert [t["claims"] for t in out["transactions"]] == [2, 1]
    broken = tmp_path / "cut.276"
    broken.write_text(text[: text.index("SE*")])
    out = json.loads(run("inspect", str(broken), "--json").output)
    assert out["type"] == "276" and out["quarantine"]["reason"] == "TRUNCATED"


def test_every_verb_and_option_has_help_text():
    import click

    def walk(command: click.Command, path: str):
        yield path, command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")

    missing = []
    for path, command in walk(main, "revcycle"):
        if not (command.help or "").strip():
            missing.append(path)
        missing += [f"{path} {p.opts[0]}" for p in command.params if isinstance(p, click.Option) and not p.help]
    assert missing == []


def test_an_unknown_dag_is_named_with_the_ones_there_are():
    result = CliRunner().invoke(main, ["airflow", "dags", "test", "remitance", "2026-11-24"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no DAG 'remitance'; the DAGs are: bank_deposits, billing_open_items,")


def test_a_day_generated_again_with_other_parameters_is_refused_and_reset_starts_over(rc_home):
    from revcycle.settings import get_settings

    s = get_settings()
    assert run("generate", "--date", "2026-11-24", "--claims", "20", "--seed", "1").exit_code == 0
    assert run("generate", "--date", "2026-11-24", "--claims", "20", "--seed", "1").exit_code == 0  # the same day
    other = CliRunner().invoke(main, ["generate", "--date", "2026-11-24", "--claims", "30", "--seed", "1"])
    assert other.exit_code == 1
    assert other.output.startswith("Error: 2026-11-24 was generated into ") and "claims 20, seed 1" in other.output
    assert "revcycle reset" in other.output
    refused_day = CliRunner().invoke(main, ["run-day", "--date", "2026-11-24", "--claims", "30", "--seed", "1"])
    assert refused_day.exit_code == 1 and "revcycle reset" in refused_day.output
    from revcycle.adapters.db import engine_for

    engine_for("erp")  # the embedded databases exist
    assert (rc_home / "erp.sqlite").exists() and (s.inbound / "_manifest" / "2026-11-24.json").exists()

    # reset lists what it removes, asks, and removes nothing on "no".
    declined = CliRunner().invoke(main, ["reset"], input="n\n")
    assert "will remove:" in declined.output and str(s.inbound) in declined.output
    assert str(rc_home / "erp.sqlite") in declined.output and declined.output.rstrip().endswith("nothing removed")
    assert (rc_home / "erp.sqlite").exists()
    done = run("reset", "--yes")
    assert "removed" in done.output and not s.inbound.exists() and not (rc_home / "erp.sqlite").exists()
    assert run("generate", "--date", "2026-11-24", "--claims", "30", "--seed", "1").exit_code == 0
    assert run("reset", "--yes").exit_code == 0 and run("reset", "--yes").output == "nothing to remove\n"


def test_a_day_with_no_data_says_so_in_one_line_and_runs_nothing(rc_home):
    result = CliRunner().invoke(main, ["run-day", "--date", "2026-11-24", "--no-generate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        f"no data for 2026-11-24: no new file in {rc_home / 'inbound'} and none recorded for the day; nothing was "
        "run (revcycle replay --date 2026-11-24 runs every DAG anyway)"
    ]
    assert not (rc_home / "airflow").exists()  # no Airflow home made, no DAG run


def test_a_day_already_done_is_not_run_again_and_says_what_it_found(rc_home):
    from revcycle.settings import get_settings
    from tests.conftest import FIXTURES
    from tests.pipeline_helpers import run_source

    inbound = get_settings().inbound / "remittance"
    inbound.mkdir(parents=True)
    (inbound / "r.835").write_bytes((FIXTURES / "x12" / "835" / "reversal-and-correction.835").read_bytes())
    run_source("remittance", dt.date(2026, 11, 24))
    result = CliRunner().invoke(main, ["run-day", "--date", "2026-11-24", "--no-generate"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "  this run:        0 new files; 1 already posted, unchanged"
    assert lines[2].startswith("  nothing new for 2026-11-24: every file in") and "replay --date 2026-11-24" in lines[2]
    assert "files in:        1 (remittance 1): posted 1" in result.output
    assert not (get_settings().home / "airflow").exists()


def test_inspect_reads_a_fhir_export_and_gives_the_pipelines_decision(tmp_path, rc_home):
    """An NDJSON export is recognised by its first line, parsed and validated as the fhir_remittance DAG would;
    a file with one bad resource is accepted with that resource rejected, an all-bad file is quarantined."""
    import itertools
    import random

    from revcycle.synthetic import fhir_remittance, remittance_835
    from revcycle.synthetic.identities import PAYERS

    day = dt.date(2026, 11, 20)
    payer = PAYERS[0]
    psets = list(remittance_835.payment_sets(random.Random(3), payer, day, 1, 30, itertools.count(1)))
    fhir_remittance.write_payments(tmp_path / "store", payer, day, psets)
    export = tmp_path / "export.ndjson"
    export.write_bytes(b"".join((tmp_path / "store" / n).read_bytes() for n in fhir_remittance.FILES) + b"{oops\n")
    result = run("inspect", str(export), "--json", "--date", "2026-11-20")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["type"], out["source"], out["quarantine"]) == ("FHIR NDJSON", "fhir_remittance", None)
    assert [t["bpr02"] for t in out["transactions"]] == [str(p.bpr02) for p in psets]
    assert out["rows"]["canonical__claim_payment"] == sum(len(p.claims) for p in psets)
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"resourceType": "Patient", "id": "p1"}\n{"resourceType": "Basic"}\n')
    out = json.loads(run("inspect", str(bad), "--json").output)
    assert out["quarantine"]["reason"] == "ALL_RESOURCES_REJECTED"


def test_inspect_gives_a_claim_status_export_to_the_fhir_claim_status_source(tmp_path, rc_home):
    """An export of ClaimResponse resources goes to the source that reads them, which maps its statuses."""
    import random

    from revcycle.synthetic import claim_status_277
    from revcycle.synthetic.identities import PAYERS

    day = dt.date(2026, 11, 20)
    payer = PAYERS[2]
    claims = [
        {"payer": payer.payer_id, "pcn": f"P{n:05d}", "icn": f"I{n:07d}", "charge": "100.00", "paid": "80.00"}
        | {"status": "1", "service_date": "20261101"}
        for n in range(6)
    ]
    (tmp_path / "claim_status").mkdir()
    entries = claim_status_277.write_277_files(
        tmp_path / "claim_status", tmp_path, day, random.Random(1), claims, 1, None, (payer.payer_id,)
    )
    (entry,) = [e for e in entries if e["type"] == "fhir_claim_status"]
    result = run("inspect", str(tmp_path / entry["path"]), "--json", "--date", "2026-11-20")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["type"], out["source"], out["quarantine"]) == ("FHIR NDJSON", "fhir_claim_status", None)
    assert out["rows"]["canonical__claim_status_event"] == entry["stc"] == 6 + 1  # and one pending claim
