"""Parse a file into staging Parquet and validate what was staged: one path for the DAG steps and `inspect`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from revcycle.adapters.lake import Lake
from revcycle.domain.canonical import SCHEMAS
from revcycle.errors import RevcycleError
from revcycle.sources.base import ParseContext, ParseResult, Source

_STEP_REASON = {"parse": "PARSER_ERROR", "validate": "VALIDATION_ERROR"}


def failure_reason(exc: BaseException, step: str) -> tuple[str, str] | None:
    """The quarantine reason and detail a file's own content earned at ``step`` (parse, validate), or None
    when the failure is the machine's (I/O, a database connection, memory), which a retry may cure.

    A project error keeps its reason; any other exception is the parser's or validator's failure on this
    file, named by its class only (an exception's message may quote a value, and values can be PHI).
    """
    if isinstance(exc, RevcycleError):
        return exc.reason, exc.detail
    if isinstance(exc, Exception) and not machine_failure(exc):
        return _STEP_REASON[step], f"{type(exc).__name__} while {step[:-1]}ing the file"
    return None


def machine_failure(exc: BaseException) -> bool:
    """The exception, or one it was raised from or while handling, is the machine's: I/O, a database, memory,
    or the object store's client (botocore's connection errors are no OSError, though they wrap one: an S3
    outage must be retried, never quarantine the file it struck)."""
    from sqlalchemy.exc import DBAPIError

    kinds: tuple[type[BaseException], ...] = (OSError, DBAPIError, MemoryError)
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError

        kinds += (BotoConnectionError, HTTPClientError)
    except ImportError:  # no object-store client installed: nothing of its kind can be raised
        pass
    seen: set[int] = set()
    at: BaseException | None = exc
    while at is not None and id(at) not in seen:
        if isinstance(at, kinds):
            return True
        seen.add(id(at))
        at = at.__cause__ or at.__context__
    return False


def stage_file(source: Source, path: Path, ctx: ParseContext, lake: Lake) -> tuple[ParseResult, dict[str, int]]:
    """Parse into ``_staging/<ctx.sha256>/``; on any error nothing staged is left behind and the error propagates."""
    writer = lake.staging_writer(ctx.sha256)
    try:
        result = source.parse(path, ctx, writer)
        writer.close(list(source.datasets + source.checks), SCHEMAS)
    except BaseException:
        writer.abort()
        raise
    return result, writer.rows


def validate_staged(source: Source, lake: Lake, key: str, business_date: dt.date, gx: bool = True):
    """Run the source's suites (checks, then datasets) on the staged frames; return the ValidationOutcome
    (``gx`` False: evaluated without loading Great Expectations, as ``inspect`` does)."""
    from revcycle.adapters.validation import validate_frames

    return validate_frames(staged_frames(source, lake, key), business_date, gx)


def staged_frames(source: Source, lake: Lake, key: str) -> dict:
    """The staged tables the source's suites check (checks, then datasets), as pandas frames."""
    from revcycle.adapters.validation import suite_columns

    # Only the columns the suites check: turning a 100k-claim 835's decimal columns into Python Decimals for
    # pandas cost more than GX itself, and grew with rows (bench/HISTORY.md, issue 19).
    return {
        name: lake.read_staging(key, name, suite_columns(name, SCHEMAS[name].names)).to_pandas()
        for name in source.checks + source.datasets
    }
