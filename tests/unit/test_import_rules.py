"""The layering of ``include/revcycle`` (docs/layout.md), enforced on every import, nested ones included.

Packages are ranked; a module may import its own package and packages of lower rank only, so no import
runs back up.  The format cores import no Airflow, no SQLAlchemy and not the deployment settings.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "include" / "revcycle"
RANK = {
    "errors": 0,
    "settings": 0,
    "domain": 1,
    "x12": 2,
    "hl7": 2,
    "fhir": 2,
    "reconcile": 2,
    "delimited": 2,
    "bank": 2,
    "adapters": 3,
    "sources": 4,
    "pipeline": 5,
    "synthetic": 5,
    "jobs": 6,
    "airflow": 7,
    "cli": 8,
}
CORES = ("x12", "hl7", "fhir", "reconcile", "delimited", "bank")
# Who may import Airflow itself: its own room, the adapters that read Airflow connections (secrets stay in
# Airflow: SFTP, S3, partner APIs) and the lineage job (OpenLineage facets), each lazily inside the function that needs it.
AIRFLOW_ALLOWED = (
    "revcycle.airflow.",
    "revcycle.adapters.db",
    "revcycle.adapters.objectstore",
    "revcycle.adapters.partner_api",
    "revcycle.adapters.sftp",
    "revcycle.jobs.lineage",
)


def _modules() -> list[tuple[str, list[str]]]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        dotted = ".".join(path.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__")
        imported = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out.append((dotted, imported))
    return out


MODULES = _modules()


def _package(dotted: str) -> str:
    return dotted.split(".")[1] if "." in dotted else ""


def test_every_package_has_a_rank():
    assert {_package(m) for m, _ in MODULES} - {""} <= set(RANK)


@pytest.mark.parametrize("module,imported", MODULES, ids=[m for m, _ in MODULES])
def test_no_import_runs_back_up(module, imported):
    mine = _package(module)
    if not mine:
        return
    upward = sorted(
        {
            n
            for n in imported
            if n.startswith("revcycle.") and _package(n) != mine and RANK.get(_package(n), 99) >= RANK[mine]
        }
    )
    assert not upward, f"{module} (rank {RANK[mine]}) imports {upward}"


@pytest.mark.parametrize(
    "module,imported",
    [(m, i) for m, i in MODULES if _package(m) in CORES + ("domain",)],
    ids=[m for m, _ in MODULES if _package(m) in CORES + ("domain",)],
)
def test_cores_import_no_airflow_sqlalchemy_or_settings(module, imported):
    banned = ["airflow", "sqlalchemy", "psycopg", "paramiko", "great_expectations"]
    if _package(module) in CORES:
        banned.append("revcycle.settings")
    found = sorted({n for n in imported for b in banned if n == b or n.startswith(b + ".")})
    assert not found, f"{module} imports {found}"


def test_only_the_airflow_room_and_two_adapters_import_airflow():
    users = sorted(m for m, imported in MODULES if any(n == "airflow" or n.startswith("airflow.") for n in imported))
    assert users and all(m.startswith(AIRFLOW_ALLOWED) for m in users), users


def test_environment_variables_are_read_in_settings_only():
    """Deployment settings have one home (settings.py); elsewhere the environment is only passed on whole
    to a child process (``dict(os.environ)``)."""
    readers = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name == "settings.py" and path.parent == PKG:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                readers.append(path.relative_to(PKG).as_posix())
    assert readers == ["airflow/runtime.py"], readers  # env = dict(os.environ) for the DAG's process
