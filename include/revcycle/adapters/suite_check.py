"""The expectation suites of ``expectations/`` evaluated in pandas alone, for ``revcycle inspect``.

Importing Great Expectations costs 2.6 s, most of a one-file ``inspect``; the DAG steps pay it once per
worker, a person at a terminal pays it every time.  This module evaluates the few expectation types the suites
use with GX's own semantics (as GX 1.x's pandas engine computes them), so ``inspect`` gives the pipeline's
decision without loading GX.  ``tests/unit/adapters/test_suite_check.py`` holds it to GX itself: the same
success, element and unexpected counts for every expectation of every suite, on staged files of every source
and on frames made to break each rule.  A type it does not know is refused (``UnknownExpectation``): the
caller then runs GX.

Semantics kept from GX:
- a ``row_condition`` (pandas parser) filters the rows first; ``element_count`` counts what is left;
- column map expectations other than ``not_be_null`` skip missing values (None, NaN, NaT);
- ``to_be_unique`` counts every occurrence of a repeated value;
- ``column_pair ... a_to_be_greater_than_b`` skips rows where both are missing (GX's ``ignore_row_if``
  default); a row with one missing value counts as unexpected;
- a column the frame does not have is an exception: the expectation fails as raised.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import pandas as pd


class UnknownExpectation(Exception):
    """A suite names an expectation type this evaluator does not implement."""


def _missing(values: pd.Series) -> pd.Series:
    return values.isna()


def _not_null(frame: pd.DataFrame, kw: dict) -> tuple[int, int]:
    values = frame[kw["column"]]
    return len(values), int(_missing(values).sum())


def _in_set(frame: pd.DataFrame, kw: dict) -> tuple[int, int]:
    values = frame[kw["column"]]
    present = values[~_missing(values)]
    return len(values), int((~present.isin(list(kw["value_set"]))).sum())


def _unique(frame: pd.DataFrame, kw: dict) -> tuple[int, int]:
    values = frame[kw["column"]]
    present = values[~_missing(values)]
    return len(values), int(present.duplicated(keep=False).sum())


def _between(frame: pd.DataFrame, kw: dict) -> tuple[int, int]:
    values = frame[kw["column"]]
    present = values[~_missing(values)]
    low, high = kw.get("min_value"), kw.get("max_value")
    ok = pd.Series(True, index=present.index)
    if low is not None:
        ok &= present.map(lambda v: v > low if kw.get("strict_min") else v >= low).astype(bool)
    if high is not None:
        ok &= present.map(lambda v: v < high if kw.get("strict_max") else v <= high).astype(bool)
    return len(values), int((~ok).sum())


def _a_greater_than_b(frame: pd.DataFrame, kw: dict) -> tuple[int, int]:
    a, b = frame[kw["column_A"]], frame[kw["column_B"]]
    both_missing = _missing(a) & _missing(b)
    compare: Callable = operator.ge if kw.get("or_equal") else operator.gt
    kept = [(x, y) for x, y, skip in zip(a, b, both_missing, strict=True) if not skip]
    unexpected = sum(1 for x, y in kept if pd.isna(x) or pd.isna(y) or not compare(x, y))
    return len(a), unexpected


EVALUATORS: dict[str, Callable[[pd.DataFrame, dict], tuple[int, int]]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_be_unique": _unique,
    "expect_column_values_to_be_between": _between,
    "expect_column_pair_values_a_to_be_greater_than_b": _a_greater_than_b,
}


def gx_order(expectations: list[dict]) -> list[dict]:
    """The expectations in the order GX reports their results: grouped by ``column`` (pair expectations, which
    have none, form one group) in the order each column first appears, suite order within a group.  The order
    matters: a file's quarantine reason is its first critical failure."""
    groups: dict[object, list[dict]] = {}
    for exp in expectations:
        groups.setdefault(exp["kwargs"].get("column"), []).append(exp)
    return [exp for group in groups.values() for exp in group]


def check(spec: dict, frame: pd.DataFrame) -> list[tuple[dict, dict]]:
    """Each expectation of the suite on the frame, in GX's order, with its ``success``, ``element_count``,
    ``unexpected_count`` and ``raised`` (a missing column), as GX reports them."""
    missing = [e["type"] for e in spec["expectations"] if e["type"] not in EVALUATORS]
    if missing:
        raise UnknownExpectation(", ".join(sorted(set(missing))))
    results = []
    for exp in gx_order(spec["expectations"]):
        kw = exp["kwargs"]
        try:
            rows = frame
            if kw.get("row_condition"):
                rows = frame.query(kw["row_condition"], parser="pandas", engine="python")
            elements, unexpected = EVALUATORS[exp["type"]](rows, kw)
        except (KeyError, TypeError, ValueError, pd.errors.UndefinedVariableError):
            results.append((exp, {"success": False, "element_count": None, "unexpected_count": None, "raised": True}))
            continue
        result = {"success": unexpected == 0, "element_count": elements, "unexpected_count": unexpected}
        results.append((exp, {**result, "raised": False}))
    return results
