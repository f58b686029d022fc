"""The revcycle command line: inspect, generate, status, quarantine list/release."""

from __future__ import annotations

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
    listed = json.loads(run("quarantine", "list", "--json").output)
    assert [q["reason"] for q in listed] == ["UNBALANCED_TRANSACTION"]
    released = run("quarantine", "release", listed[0]["sha256"][:10])
    assert "released" in released.output
    assert json.loads(run("quarantine", "list", "--json").output) == []
    assert CliRunner().invoke(main, ["quarantine", "release", "ffff"]).exit_code != 0


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
