"""The built wheel runs outside the repository: SQL, suites, configuration and DAGs come as package data.

The wheel is built from this checkout and installed into a fresh virtual environment whose dependencies
are this environment's (a path file, so nothing is downloaded twice), but not its editable revcycle; every
command then runs from a folder outside the repository.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (python, and its share/revcycle)."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("revcycle-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # The venv's own pip installs the wheel (a pip of this environment would first uninstall the editable
    # revcycle here); only then does a path file lend it this environment's dependencies.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "_revcycle_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _run(venv: Path, cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVCYCLE_", "AIRFLOW", "PYTHONPATH"))}
    env["REVCYCLE_TOKEN_KEY"] = "wheel-test-key-0001"
    return subprocess.run(
        [str(venv / "bin" / "python"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_installed_package_reads_its_data_from_the_wheel(installed, tmp_path):
    out = _run(
        installed,
        tmp_path,
        "-c",
        "import json, revcycle, revcycle.settings as s; print(json.dumps("
        "[revcycle.__file__, str(s.SQL_DIR), str(s.EXPECTATIONS_DIR), str(s.CONFIG_DIR), str(s.DAGS_DIR), "
        "s.IN_CHECKOUT, str(s.get_settings().home)]))",
    )
    assert out.returncode == 0, out.stderr
    package, sql, suites, config, dags, in_checkout, home = json.loads(out.stdout)
    assert not in_checkout and package.startswith(str(installed)) and not package.startswith(str(ROOT))
    for folder in (sql, suites, config, dags):
        assert folder.startswith(str(installed / "share" / "revcycle")) and Path(folder).is_dir()
    assert Path(home) == tmp_path / "var"


def test_inspect_and_one_dag_run_from_the_installed_package(installed, tmp_path):
    inspected = _run(
        installed,
        tmp_path,
        "-m",
        "revcycle.cli",
        "inspect",
        str(FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835"),
        "--json",
        "--date",
        "2026-11-20",
    )
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    assert json.loads(inspected.stdout)["source"] == "remittance"

    generated = _run(
        installed, tmp_path, "-m", "revcycle.cli", "generate", "--date", "2026-11-24", "--claims", "30", "--seed", "3"
    )
    assert generated.returncode == 0, generated.stderr[-2000:]
    ran = _run(
        installed, tmp_path, "-m", "revcycle.cli", "airflow", "dags", "test", "remittance", "2026-11-24", timeout=900
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    with sqlite3.connect(tmp_path / "var" / "ops.sqlite") as db:
        states = db.execute(
            "select state, count(*) from ingestion_ledger where source = 'remittance' group by state"
        ).fetchall()
    assert states and dict(states).get("posted", 0) >= 1 and set(dict(states)) == {"posted"}, states
