"""One catalogue of reason codes (include/config/reason_codes.csv): every code the code raises or a suite
names is listed, and every listed code is used somewhere."""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "include" / "revcycle"
CATALOGUE = ROOT / "include" / "config" / "reason_codes.csv"
ERRORS = {"X12Error", "MappingError", "LandingError", "PostingError", "HL7Error", "RevcycleError", "ParseFailure"}
# Calls whose reason is not their first argument: (callee, position).
REASON_AT = {"BrokenMessage": 1, "quarantine": 1, "Rejected": 3, "PaymentRefused": 0}
SHAPE = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


def catalogue() -> dict[str, dict]:
    with open(CATALOGUE, newline="") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


def _constants(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def raised_in_python() -> dict[str, str]:
    """Codes in a reason position: an error's first argument, a ``reason=`` keyword, quarantine()'s reason,
    and the values of module constants whose name says REASON."""
    found = {}
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            values: list[str] = []
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                at = REASON_AT.get(name, 0 if name in ERRORS else None)
                if at is not None and len(node.args) > at:
                    values += _constants(node.args[at])
                values += [c for k in node.keywords if k.arg == "reason" for c in _constants(k.value)]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and "REASON" in t.id for t in targets) and node.value is not None:
                    values += _constants(node.value)
            for value in values:
                if SHAPE.match(value):
                    found.setdefault(value, str(path.relative_to(ROOT)))
    return found


def named_by_suites() -> dict[str, str]:
    found = {}
    for path in (ROOT / "expectations").glob("*.json"):
        for exp in json.loads(path.read_text())["expectations"]:
            found.setdefault(exp["meta"]["reason"], path.name)
    return found


def test_the_catalogue_is_complete_and_well_formed():
    rows = catalogue()
    assert len(rows) >= 100
    for code, row in rows.items():
        assert SHAPE.match(code), code
        assert all(row[c].strip() for c in ("stage", "unit", "owner", "description")), code


def test_every_code_raised_in_python_is_listed():
    missing = {code: where for code, where in raised_in_python().items() if code not in catalogue()}
    assert not missing, f"reason codes not in {CATALOGUE.name}: {missing}"


def test_every_reason_named_by_a_suite_is_listed():
    missing = {code: where for code, where in named_by_suites().items() if code not in catalogue()}
    assert not missing, f"reason codes not in {CATALOGUE.name}: {missing}"


def test_every_listed_code_is_used():
    used = set(named_by_suites())
    for path in PKG.rglob("*.py"):
        used |= {c for c in _constants(ast.parse(path.read_text())) if SHAPE.match(c)}
    unused = sorted(set(catalogue()) - used)
    assert not unused, f"listed in {CATALOGUE.name} but used nowhere: {unused}"
