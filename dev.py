#!/usr/bin/env python3
"""Two commands on a fresh machine with only Python 3.11+:

    python3 dev.py day     # create .venv if missing, then run a whole business day through every DAG
    python3 dev.py test    # create .venv if missing, then run the whole test suite
    python3 dev.py lint    # ruff check and ruff format --check (CI runs it before the tests)
    python3 dev.py cluster # a real distributed Airflow here (up | down | status; see README "Run it in production")

Extra arguments go to the underlying command (``revcycle run-day`` or ``pytest``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("REVCYCLE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_env() -> None:
    """Create the virtual environment and install the project (with test extras) when pyproject changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs under any python3 to say so
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    marker = VENV / ".revcycle-installed"
    if marker.exists() and marker.read_text() == _stamp():
        return
    if not (BIN / "python").exists():
        print(f"creating virtual environment {VENV} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing revcycle and its pinned dependencies (first run takes a few minutes) ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[test]"], check=True)
    marker.write_text(_stamp())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("day", "test", "lint", "cluster"):
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if argv[0] == "day":
        return subprocess.call([str(BIN / "revcycle"), "run-day", *argv[1:]])
    if argv[0] == "cluster":
        return subprocess.call([str(BIN / "revcycle"), "cluster", *(argv[1:] or ["up"])])
    if argv[0] == "lint":
        ruff = str(BIN / "ruff")
        return subprocess.call([ruff, "check", *argv[1:]]) or subprocess.call([ruff, "format", "--check", *argv[1:]])
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
