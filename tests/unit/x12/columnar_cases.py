"""What the columnar mappers' tests share: the check that a columnar mapper agrees with its reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from revcycle.errors import RevcycleError


def agrees_or_declines(path: Path, columnar: Callable, reference: Callable, rows: Callable) -> None:
    """The columnar result equals the reference's (``rows`` of each), or the file was declined; a file the
    reference refuses must be declined."""
    got = columnar(path)
    try:
        want = reference(path)
    except (RevcycleError, pa.ArrowInvalid):
        assert got is None, "mapped a file the set-by-set mapper refuses"
        return
    if got is not None:
        assert rows(got) == rows(want)
