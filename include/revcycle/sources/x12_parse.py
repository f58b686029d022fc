"""Parsing any inbound X12 file: one envelope-checked stream, datasets staged set by set, acknowledgements.

A source gives a mapper (X12Reader -> transaction sets) and an ``emit`` that
stages one set's records and adds its control totals; everything else - the
envelope numbers for the ledger, the 999/TA1, pyx12 findings, turning errors
into a ``ParseFailure`` - is the same for every X12 source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.errors import RevcycleError
from revcycle.settings import arrow_pool_named
from revcycle.sources.base import ParseContext, ParseFailure, ParseResult
from revcycle.sources.ig_validation import structural_findings
from revcycle.sources.x12_acks import write_acks
from revcycle.x12.columnar import DECLINES, Envelope
from revcycle.x12.reader import X12Reader

# Arrow's bundled allocator (mimalloc) kept the pages of the columnar runs mapped and staged on several
# threads: a 36 MB 835 staged with 330 MB of working memory, against 230 MB and a fifth less time with the
# C library's allocator (bench/run.py stage 1d).  A pool named in ARROW_DEFAULT_MEMORY_POOL still wins.
if not arrow_pool_named():
    pa.set_memory_pool(pa.system_memory_pool())


def parse_x12_file(
    path: Path,
    ctx: ParseContext,
    out: StagingWriter,
    mapper: Callable[[X12Reader], Iterator],
    emit: Callable[[object, StagingWriter, dict, ParseResult], None],
    ig_validation: bool = True,
    acknowledge: bool = True,
) -> ParseResult:
    """``acknowledge=False`` for acknowledgements themselves: a 999 or TA1 is never answered."""
    result = ParseResult()
    ack_dir = ctx.ack_dir if acknowledge else None
    lineage = ctx.lineage()
    with open(path, "rb") as stream:
        reader = X12Reader(stream)
        try:
            for tset in mapper(reader):
                emit(tset, out, lineage, result)
        except (RevcycleError, pa.ArrowInvalid) as exc:
            error = exc if isinstance(exc, RevcycleError) else _arrow_refusal(exc)
            _envelope(result, reader)
            result.acks = write_acks(reader, ctx.sha256, ctx.landed_at, ack_dir, error)
            raise ParseFailure(error.reason, error.detail, result) from None
    return settle(result, reader, path, ctx, ack_dir, ig_validation)


def stage_in_sets(out: StagingWriter, tables: dict[str, pa.Table], set_rows: dict, sets: int) -> None:
    """Whole-file tables written set by set, as a set-by-set parse writes its records: the staged files
    get the same rows in the same row groups."""
    starts = dict.fromkeys(tables, 0)
    for k in range(sets):
        for name, table in tables.items():
            rows = int(set_rows[name][k])
            out.write(name, table.slice(starts[name], rows))
            starts[name] += rows


def stage_columnar(
    found: tuple[Envelope, Iterator] | None,
    stage_run: Callable[[object, dict, StagingWriter, ParseResult], None],
    path: Path,
    ctx: ParseContext,
    out: StagingWriter,
    ig_validation: bool,
) -> ParseResult | None:
    """A columnar mapping's runs (``found``: envelope and runs, or None when it declined the file at once),
    each staged by ``stage_run`` and let go before the next is taken; None when the mapping declined the file,
    with nothing left staged (a value too long or too precise for its column: the set-by-set path then refuses
    it at its set, with its reason)."""
    if found is None:
        return None
    envelope, runs = found
    result, lineage = ParseResult(), ctx.lineage()
    try:
        for mapped in runs:
            stage_run(mapped, lineage, out, result)
    except DECLINES:
        out.abort()
        return None
    return settle(result, envelope, path, ctx, ctx.ack_dir, ig_validation)


def table_columns(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    return dict(zip(table.column_names, table.columns, strict=True))


def settle(
    result: ParseResult, envelope: X12Reader | Envelope, path: Path, ctx: ParseContext, ack_dir, ig_validation: bool
) -> ParseResult:
    """A file read to its end: its envelope numbers, acknowledgements and implementation-guide findings
    (``envelope``: the reader that read it, or what a whole-file mapper found)."""
    _envelope(result, envelope)
    result.control_totals.update({"interchanges": len(envelope.interchanges), "segments": envelope.segment_count})
    result.acks = write_acks(envelope, ctx.sha256, ctx.landed_at, ack_dir)
    if ig_validation:
        result.findings = structural_findings(path, envelope.segment_count)
    result.findings += [{"check": "envelope", "reason": w} for w in envelope.warnings]
    return result


def _arrow_refusal(exc: pa.ArrowInvalid) -> RevcycleError:
    """A value Arrow would not cast into its decimal column: too many decimals, or too many digits."""
    if "Rescaling" in str(exc) or "data loss" in str(exc):
        return RevcycleError("BAD_AMOUNT_SCALE", "amount with more decimals than its column keeps")
    return RevcycleError("BAD_AMOUNT_SIZE", "amount with more digits than its column holds")


def _envelope(result: ParseResult, reader: X12Reader | Envelope) -> None:
    result.sender_id = reader.interchanges[0].sender_id if reader.interchanges else ""
    result.interchanges = [i.control_number for i in reader.interchanges]
    result.groups = [g.control_number for i in reader.interchanges for g in i.groups]
    result.transactions = [t for i in reader.interchanges for g in i.groups for t in g.transaction_set_ids]


def sum_str(values: Iterable[str]) -> str:
    from decimal import Decimal

    return str(sum((Decimal(v) for v in values), Decimal("0")))
