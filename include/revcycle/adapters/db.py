"""Database adapter: one engine per logical database (ERP, ops), named SQL from ``sql/``.

The same SQL text runs on SQLite (embedded default) and PostgreSQL
(production): schemas ``erp`` and ``ops`` are real schemas on PostgreSQL and
attached database files on SQLite.  Connection URLs come from an Airflow
connection when ``REVCYCLE_<DB>_CONN_ID`` is set (secrets stay in Airflow),
else from ``REVCYCLE_<DB>_URL``, else the SQLite file under ``var/``.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, TextClause, bindparam, create_engine, event, text

from revcycle.settings import SQL_DIR, get_settings

# SQLite has no decimal type.  Money must not become binary floating point there
# (its sums would print 883.8100000000001), so on SQLite every ``numeric(p,s)``
# column of our DDL is created as ``decimal_text(p,s)`` (TEXT affinity: the exact
# decimal text is stored), Decimal binds as that text, and each connection
# replaces ``sum``/``total`` with exact decimal aggregates.  Readers take values
# through ``Decimal(str(value))`` on both databases.
sqlite3.register_adapter(Decimal, str)
_NUMERIC = re.compile(r"\bnumeric\((\d+)\s*,\s*(\d+)\)", re.IGNORECASE)


class _ExactSum:
    """SQLite ``sum``: integers stay integers; any decimal makes the result the exact decimal text."""

    def __init__(self) -> None:
        self.total: int | Decimal | None = None

    def step(self, value: object) -> None:
        if value is None:
            return
        if isinstance(value, int):
            number: int | Decimal = value
        else:  # decimal text, or a float from an expression: its shortest repr is what was meant
            try:
                number = Decimal(repr(value) if isinstance(value, float) else str(value).strip() or "0")
            except ArithmeticError:
                number = Decimal(0)  # text that is no number counts 0, as in SQLite's own sum
        self.total = number if self.total is None else self.total + number

    def finalize(self) -> int | str | None:
        if self.total is None or isinstance(self.total, int):
            return self.total
        return str(self.total)


class _ExactTotal(_ExactSum):
    def finalize(self) -> int | str | None:
        return "0" if self.total is None else str(self.total)


sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
sqlite3.register_adapter(dt.datetime, lambda d: d.isoformat(sep=" "))


def as_date(value: object) -> dt.date | None:
    """A date column's value as a date: PostgreSQL gives dates, SQLite ISO text; a datetime gives its day."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def as_datetime(value: object) -> dt.datetime | None:
    """A timestamp column's value as a datetime; None when empty or not a timestamp (rows written before
    ``ledger_event.at`` stopped being cast to a number on SQLite hold ``2026``)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


_SQLITE = re.compile(r"^sqlite(\+\w+)?:///(?P<path>.+)$")


def _airflow_uri(conn_id: str) -> str:
    from airflow.sdk import BaseHook  # only when a connection id is configured

    uri = BaseHook.get_connection(conn_id).get_uri()
    return uri.replace("postgres://", "postgresql+psycopg://", 1).replace("postgresql://", "postgresql+psycopg://", 1)


def database_url(schema: str) -> str:
    s = get_settings()
    conn_id = s.erp_conn_id if schema == "erp" else ""
    if conn_id:
        return _airflow_uri(conn_id)
    return s.erp_url if schema == "erp" else s.ops_url


# SQLite's page cache per connection, in KiB (its default is 2 MiB).  Posting inserts business keys, which
# are hashes, so each row lands on a random page of every index; once a week of days makes the ERP file
# gigabytes, a 2 MiB cache misses on nearly every insert: a day's 150k receipt applications took 13.1 s on
# a four-day file with the default, 4.3-7.0 s with this (bench/HISTORY.md, issue 28).  Pages are cached as
# they are read, so a connection that reads little costs little.
SQLITE_CACHE_KIB = 131072


def _wal(cur: sqlite3.Cursor, seconds: float = 60) -> None:
    """Switch the file to WAL (it stays so).  Switching needs the file to itself and SQLite answers "database
    is locked" at once, without its busy handler, while another process opens the new file: retry."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if cur.execute("pragma journal_mode").fetchone()[0] != "wal":
                cur.execute("pragma journal_mode=wal")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@lru_cache(maxsize=8)
def _engine(url: str, schema: str) -> Engine:
    m = _SQLITE.match(url)
    if m:
        path = Path(m.group("path"))
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _attach(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("pragma busy_timeout=60000")
            _wal(cur)
            cur.execute(f"attach database ? as {schema}", (str(path),))
            cur.execute(f"pragma {schema}.cache_size=-{SQLITE_CACHE_KIB}")
            cur.close()
            dbapi_conn.create_aggregate("sum", 1, _ExactSum)
            dbapi_conn.create_aggregate("total", 1, _ExactTotal)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    ensure_schema(engine, schema)
    return engine


def engine_for(schema: str) -> Engine:
    """The engine of the ``erp`` or ``ops`` database, its DDL applied."""
    return _engine(database_url(schema), schema)


def reset_engines() -> None:
    """Forget cached engines (tests point the settings at new databases)."""
    _engine.cache_clear()


def sql(name: str) -> str:
    """The text of a named SQL file, e.g. ``sql('erp/load_cash_receipt')``."""
    return (SQL_DIR / f"{name}.sql").read_text()


@cache
def statement(name: str, *expanding: str) -> TextClause:
    """A named SQL file as a statement, read and parsed once per process; ``expanding`` names binds that
    take a list (``in :keys``)."""
    stmt = text(sql(name))
    return stmt.bindparams(*(bindparam(b, expanding=True) for b in expanding)) if expanding else stmt


def query(conn: Connection, name: str, params: dict | list | None = None, *, expanding: tuple[str, ...] = ()):
    """Run a named SQL file on ``conn`` with its binds: ``query(conn, "ops/ledger_get", {"sha256": s})``."""
    return conn.execute(statement(name, *expanding), params if params is not None else {})


def statements(script: str) -> list[str]:
    """Split a DDL script on semicolons at line ends (no procedural SQL in our DDL)."""
    body = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def ensure_schema(engine: Engine, schema: str) -> None:
    """Apply the schema's numbered DDL files (``sql/<schema>/0NN_*.sql``) that this database has not had yet,
    each once, recorded in ``<schema>.schema_migration``.  Every task process opens its engines and so comes
    here: on PostgreSQL a transaction-scoped advisory lock serialises them (concurrent ``create schema if not
    exists`` collides, concurrent DDL deadlocks), and once the files are recorded a process only reads the
    list; SQLite serialises writers by itself."""
    dialect = engine.dialect.name

    def lock(conn: Connection) -> None:
        if dialect == "postgresql":
            query(conn, "erp/lock_key", {"lock_key": f"revcycle.schema.{schema}"})

    with engine.begin() as conn:
        lock(conn)
        if dialect == "postgresql":
            conn.execute(text(f"create schema if not exists {schema}"))
        conn.execute(
            text(
                f"create table if not exists {schema}.schema_migration "
                "(name varchar(200) primary key, applied_at varchar(40) not null)"
            )
        )
    with engine.begin() as conn:
        lock(conn)
        if dialect == "sqlite":  # a first write takes the database's write lock (as erp/lock_database does)
            conn.execute(text(f"delete from {schema}.schema_migration where 1 = 0"))
        applied = set(conn.execute(text(f"select name from {schema}.schema_migration")).scalars())
        for path in sorted((SQL_DIR / schema).glob("0*_*.sql")):
            parts = path.name.split(".")
            if path.name in applied or (len(parts) == 3 and parts[1] != dialect):
                continue  # applied already, or a file for the other dialect
            for stmt in statements(path.read_text()):
                if dialect == "sqlite":
                    stmt = _NUMERIC.sub(r"decimal_text(\1,\2)", stmt)
                conn.execute(text(stmt))
            conn.execute(
                text(f"insert into {schema}.schema_migration (name, applied_at) values (:name, :at)"),
                {"name": path.name, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
            )
