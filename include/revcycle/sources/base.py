"""What a source plugs into the shared steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from revcycle.adapters.storage import StagingWriter
from revcycle.delimited.contract import Contract
from revcycle.errors import RevcycleError

if TYPE_CHECKING:  # only for the verify_posted signature; sources import no database library
    from sqlalchemy import Connection


@dataclass
class ParseContext:
    sha256: str
    original_name: str
    business_date: dt.date
    landed_at: dt.datetime
    data_source: str
    ack_dir: Path | None  # where acknowledgements go (None: inspect, write nothing)
    reject_dir: Path | None = None  # where rejected messages of a message-level source are kept (PHI allowed)

    def lineage(self) -> dict:
        return {
            "data_source": self.data_source,
            "file_name": self.sha256,
            "ingest_datetime": self.landed_at,
            "business_date": self.business_date,
        }


@dataclass
class ParseResult:
    sender_id: str = ""
    interchanges: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)
    control_totals: dict = field(default_factory=dict)
    partition_key: str | None = None
    acks: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)  # structural warnings (no values)


class ParseFailure(RevcycleError):
    """A parse error with what was learned before it (envelope numbers, acknowledgements)."""

    def __init__(self, reason: str, detail: str, partial: ParseResult) -> None:
        super().__init__(reason, detail)
        self.partial = partial


@dataclass(frozen=True)
class Exclusive:
    """One business event, one file (a payment re-sent in a new envelope must not count twice).

    The keys in staged ``dataset.column`` are claimed for the file at parse, before anything is published
    (another file's claim quarantines it with ``reason``); at post the same keys are the ``erp_key`` of
    ``erp_table`` rows, checked again under the posting's lock.
    """

    dataset: str
    column: str
    erp_table: str
    erp_key: str
    reason: str


@dataclass(frozen=True)
class Source:
    name: str
    inbound_subdir: str
    patterns: tuple[str, ...]
    datasets: tuple[str, ...]  # published canonical datasets (and GX suites)
    checks: tuple[str, ...]  # staged check frames validated but never published
    parse: Callable[[Path, ParseContext, StagingWriter], ParseResult]
    post: Callable[[dict[str, pa.Table], dt.date, str], dict] | None
    asset_uri: str
    # Inside the posting transaction: read the ERP back (sha256, control totals, connection) and raise
    # PostingError unless it ties to the source totals; the posting is then rolled back.
    verify_posted: Callable[[str, dict, Connection], None] | None = None
    exclusive: Exclusive | None = None
    # The column contract of a CSV source (how ``inspect`` recognises its files by their header).
    contract: Contract | None = None
    # A FHIR Bulk Data source: the resource types its export asks for (``_type``); its files come from
    # ``revcycle.adapters.fhir_bulk`` through the connection REVCYCLE_FHIR_CONN_ID.
    fhir_types: tuple[str, ...] = ()
    # The setting naming the connection of the FHIR server it exports from (a payer's, or the EHR's).
    fhir_conn_setting: str = "fhir_conn_id"
