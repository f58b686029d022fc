"""Great Expectations adapter: run the suites in ``expectations/`` on canonical frames.

Each expectation carries a GX ``severity`` (critical or warning) and a
``meta.reason`` code; a failed critical expectation quarantines the file with
that reason.  Results keep counts only: ``partial_unexpected_count`` is 0 so
no value of any column (PHI or not) reaches a validation report.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from revcycle.domain.reference import active_codes
from revcycle.settings import EXPECTATIONS_DIR

log = logging.getLogger(__name__)
# BASIC carries element and unexpected counts, all a report keeps; SUMMARY's extra tallies cost GX
# about a quarter more time for the same outcomes (bench stage 5, HISTORY.md).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}


@dataclass
class ExpectationOutcome:
    dataset: str
    expectation: str
    column: str | None
    severity: str
    reason: str
    description: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    raised_exception: bool


@dataclass
class ValidationOutcome:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    # Seconds spent inside GX (definitions and runs): what the GX share of a day's pipeline time counts.
    gx_seconds: float = 0.0

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    @property
    def passed(self) -> bool:
        return not self.critical_failures

    def quarantine_reason(self) -> tuple[str, str] | None:
        failures = self.critical_failures
        if not failures:
            return None
        first = failures[0]
        detail = "; ".join(
            f"{f.reason} ({f.dataset}.{f.column}: {f.unexpected_count} of {f.element_count} rows)" for f in failures
        )
        return first.reason, detail

    def as_dicts(self) -> list[dict]:
        return [o.__dict__ for o in self.outcomes]


@lru_cache(maxsize=64)
def _read_suite(path: Path) -> str:
    """A suite's JSON, read once per process (each file's validation needs it twice: for the columns to
    read, then for the suite)."""
    return path.read_text()


def _suite_text(name: str) -> str:
    return _read_suite(EXPECTATIONS_DIR / f"{name}.json")


def load_suite_spec(name: str, business_date: dt.date) -> dict:
    """The suite JSON with ``{"$ref": list}`` value sets resolved against versioned code lists."""
    spec = json.loads(_suite_text(name))
    for exp in spec["expectations"]:
        vs = exp["kwargs"].get("value_set")
        if isinstance(vs, dict) and "$ref" in vs:
            exp["kwargs"]["value_set"] = active_codes(vs["$ref"], business_date)
    return spec


_COLUMN_ARGS = ("column", "column_A", "column_B")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def suite_columns(name: str, available: list[str]) -> list[str] | None:
    """The columns of ``available`` that the suite's expectations check or filter on (``row_condition``), in
    ``available``'s order; None (read every column) when an expectation is not about named columns (a
    table-level one)."""
    spec = json.loads(_suite_text(name))
    wanted: set[str] = set()
    for exp in spec["expectations"]:
        kwargs = exp["kwargs"]
        named = [kwargs[k] for k in _COLUMN_ARGS if k in kwargs] + list(kwargs.get("column_list", []))
        if not named:
            return None
        wanted.update(named)
        wanted.update(_IDENTIFIER.findall(str(kwargs.get("row_condition") or "")))
    return [c for c in available if c in wanted]


class _Gx:
    """One ephemeral GX context per process, with one pandas asset per dataset."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every DataFrame under HASH_THRESHOLD bytes (1 GB) by hashing all its rows, for a
        # batch marker no report of ours keeps: 2.2 s of a 100k-claim 835's 3.2 s of validation, growing
        # with rows.  Off, a file's validation costs per expectation, not per row (bench/HISTORY.md).
        pandas_execution_engine.HASH_THRESHOLD = 0
        self.gx = gx
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.ctx.data_sources.add_pandas("revcycle")
        self._defs: dict[str, object] = {}

    def validation_definition(self, name: str, spec: dict):
        key = name + json.dumps(spec, sort_keys=True, default=str)
        if key in self._defs:
            return self._defs[key]
        n = len(self._defs)
        asset = self.source.add_dataframe_asset(f"{name}__{n}")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = self.gx.ExpectationSuite(name=f"{name}__{n}", expectations=copy.deepcopy(spec["expectations"]))
        suite = self.ctx.suites.add(suite)
        vd = self.ctx.validation_definitions.add(
            self.gx.ValidationDefinition(data=batch, suite=suite, name=f"{name}__{n}")
        )
        self._defs[key] = vd
        return vd


@lru_cache(maxsize=1)
def _gx() -> _Gx:
    return _Gx()


def warm_up() -> None:
    """Load GX, its context and what it loads on a first run (``revcycle.airflow.preload``, before tasks fork)."""
    spec = {
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "a", "value_set": [1, 2]}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a"}},
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 0}},
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 0}},
        ]
    }
    _gx().validation_definition("warm_up", spec).run(
        batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2]})}, result_format=RESULT_FORMAT
    )


def validate_frames(frames: dict[str, pd.DataFrame], business_date: dt.date, gx: bool = True) -> ValidationOutcome:
    """Run the suite named after each frame; frames without rows are checked too (counts of 0).  Without
    ``gx`` the suites are evaluated by ``revcycle.adapters.suite_check`` (GX's semantics, held to GX by its
    tests) and Great Expectations is never imported; a suite it cannot evaluate still goes to GX."""
    outcome = ValidationOutcome()
    for name, frame in frames.items():
        spec = load_suite_spec(name, business_date)
        if not gx and _check_without_gx(name, spec, frame, outcome):
            continue
        started = time.perf_counter()
        vd = _gx().validation_definition(name, spec)
        result = vd.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
        outcome.gx_seconds += time.perf_counter() - started
        for r in result.results:
            cfg = r.expectation_config
            meta = cfg.meta or {}
            res = r.result or {}
            raised = _raised(r.exception_info)
            outcome.outcomes.append(
                ExpectationOutcome(
                    dataset=name,
                    expectation=cfg.type,
                    column=cfg.kwargs.get("column"),
                    severity=str(getattr(cfg.severity, "value", cfg.severity)),
                    reason=meta.get("reason", "EXPECTATION_FAILED"),
                    description=meta.get("description", ""),
                    success=bool(r.success) and not raised,
                    element_count=res.get("element_count"),
                    unexpected_count=res.get("unexpected_count"),
                    raised_exception=raised,
                )
            )
    return outcome


def _raised(info: dict | None) -> bool:
    """Whether GX caught an exception evaluating the expectation: its ``exception_info`` is either one record
    or, when a metric failed (a missing column), one record per metric id."""
    if not info:
        return False
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _check_without_gx(name: str, spec: dict, frame: pd.DataFrame, outcome: ValidationOutcome) -> bool:
    from revcycle.adapters.suite_check import UnknownExpectation, check

    try:
        results = check(spec, frame)
    except UnknownExpectation as exc:
        log.info("suite %s: %s not evaluated without GX; running GX", name, exc)
        return False
    for exp, r in results:
        meta = exp.get("meta") or {}
        outcome.outcomes.append(
            ExpectationOutcome(
                dataset=name,
                expectation=exp["type"],
                column=exp["kwargs"].get("column"),
                severity=str(exp.get("severity", "critical")),
                reason=meta.get("reason", "EXPECTATION_FAILED"),
                description=meta.get("description", ""),
                success=r["success"],
                element_count=r["element_count"],
                unexpected_count=r["unexpected_count"],
                raised_exception=r["raised"],
            )
        )
    return True
