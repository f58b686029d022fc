"""ERP interface loader: staged rows moved into the interface tables in one transaction.

Idempotent on business keys: rows go to a temp staging table, then one
``insert ... select ... on conflict do nothing`` (named SQL in ``sql/erp``)
moves the ones not posted yet.  On PostgreSQL the staging table is filled with
COPY, and a table's rows are first tried with one COPY straight into the table
(see ``_copy_direct``); on SQLite the stage is filled with an executemany insert.

A file's posting is all or nothing, and concurrent posters cannot interleave:
the transaction first takes a lock (SQLite: the database's write lock;
PostgreSQL: an advisory lock per owned business key), then checks in the same
transaction that no other file owns those keys, inserts, and runs the source's
read-back verification before it commits.  Any failure rolls the whole file back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from revcycle.adapters.db import engine_for, query, sql, statements
from revcycle.domain.decimals import cents
from revcycle.errors import PostingError


@dataclass(frozen=True)
class Ownership:
    """Rows of ``table`` (key column ``key``) belong to exactly one source file: the one posting them now
    (``sha256``), unless another file posted one of the keys already, which fails the posting with ``reason``."""

    table: str
    key: str
    sha256: str
    reason: str


def _copy(conn: Connection, schema: str | None, name: str, rows: list[dict]) -> None:
    from psycopg import sql as pgsql

    cols = list(rows[0])
    target = pgsql.Identifier(schema, name) if schema else pgsql.Identifier(name)
    stmt = pgsql.SQL("copy {} ({}) from stdin").format(target, pgsql.SQL(", ").join(pgsql.Identifier(c) for c in cols))
    with conn.connection.driver_connection.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row([row[c] for c in cols])


def _copy_direct(conn: Connection, name: str, rows: list[dict]) -> bool:
    """PostgreSQL fast path: COPY straight into the table inside a savepoint.

    Every interface table has its business key as primary key, so if any row is already there the COPY
    fails with a unique violation; the savepoint is rolled back and the caller takes the staged
    insert-on-conflict path.  A first posting thus costs one pass; a replay two, and changes nothing.
    """
    import psycopg

    savepoint = conn.begin_nested()
    try:
        _copy(conn, "erp", name, rows)
    except psycopg.errors.UniqueViolation:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _fill_stage(conn: Connection, name: str, rows: list[dict]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, None, f"stage_{name}", rows)
    else:
        # The driver's own executemany, as tuples: SQLAlchemy's per-row parameter processing cost more than
        # the insert itself (2.4 s of a 25k-claim 835's 200k journal lines; bench/HISTORY.md stage 6).
        cols = list(rows[0])
        stmt = f"insert into stage_{name} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(stmt, [tuple(row[c] for c in cols) for row in rows])
        finally:
            cursor.close()


def _lock(conn: Connection, keys: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        for key in keys:  # sorted by the caller: two posters of overlapping keys never wait on each other
            query(conn, "erp/lock_key", {"lock_key": key})
    else:
        query(conn, "erp/lock_database")


def _check_ownership(conn: Connection, owned: Ownership, keys: list[str]) -> None:
    rows = query(conn, f"erp/owners_{owned.table}", {"keys": keys}, expanding=("keys",))
    others = {key: sha for key, sha in rows if sha != owned.sha256}
    if others:
        raise PostingError(
            owned.reason,
            f"{len(others)} of {len(keys)} {owned.table} key(s) already posted "
            f"from file {sorted(others.values())[0][:12]}",
        )


def load(
    rows_by_table: dict[str, list[dict]],
    *,
    owned: Ownership | None = None,
    verify: Callable[[Connection], None] | None = None,
) -> dict[str, int]:
    """Post all tables of one source file atomically, in the order given; return rows inserted or updated.

    ``owned``: refuse (``PostingError``) when another file already posted one of the owned keys, decided
    under the lock in the posting's own transaction.  ``verify(conn)`` reads the rows back before commit
    and raises ``PostingError`` when they do not tie out; either error leaves nothing posted.
    """
    inserted = {}
    keys = sorted({r[owned.key] for r in rows_by_table.get(owned.table, [])}) if owned else []
    with engine_for("erp").begin() as conn:
        _lock(conn, [f"erp.{owned.table}:{k}" for k in keys] if owned else [])
        if owned and keys:
            _check_ownership(conn, owned, keys)
        for name, rows in rows_by_table.items():
            if not rows:
                inserted[name] = 0
                continue
            if conn.dialect.name == "postgresql" and _copy_direct(conn, name, rows):
                inserted[name] = len(rows)
                continue
            for stmt in statements(sql(f"erp/stage_{name}")):
                conn.execute(text(stmt))
            _fill_stage(conn, name, rows)
            inserted[name] = query(conn, f"erp/load_{name}").rowcount
        if verify is not None:
            verify(conn)
        postgres = conn.dialect.name == "postgresql"
    if postgres:
        refresh_statistics(inserted)
    return inserted


def refresh_statistics(inserted: dict[str, int]) -> list[str]:
    """PostgreSQL: ``ANALYZE`` each table a posting just grew by a tenth or more (or that was never analysed),
    after its commit; return the tables analysed.

    Autovacuum analyses a table some time after it grows (and not at all where it is switched off); the
    next DAG's query meets the table first.  The 276 inquiry selection on the second day of 142,858 claims
    took 133.8 s on a cluster: with ``receipt_application`` never analysed the planner took it for a few
    hundred rows and chose a nested-loop anti join, one scan of every application per open claim."""
    grown = {name: n for name, n in inserted.items() if n > 0}
    if not grown:
        return []
    with engine_for("erp").connect() as conn:
        known = dict(
            conn.execute(
                text(
                    "select c.relname, c.reltuples from pg_class as c join pg_namespace as n "
                    "on n.oid = c.relnamespace where n.nspname = 'erp' and c.relname = any(:names)"
                ),
                {"names": sorted(grown)},
            ).all()
        )
        stale = [
            name for name in sorted(grown) if name in known and (known[name] < 0 or grown[name] * 10 >= known[name])
        ]
        for name in stale:  # names of our own interface tables, never input
            conn.execute(text(f'analyze erp."{name}"'))
        conn.commit()
    return stale


def rejection(exc: BaseException) -> str | None:
    """The database's class name when ``exc`` is the ERP refusing the data itself (too long for a column,
    a NUL byte, a constraint), which no retry can cure; None for anything else (a lost connection, a lock
    time-out: worth retrying)."""
    import psycopg
    import sqlalchemy.exc

    # SQLAlchemy wraps driver errors of statements; the COPY paths raise psycopg's own.
    if isinstance(
        exc, (sqlalchemy.exc.DataError, sqlalchemy.exc.IntegrityError, psycopg.DataError, psycopg.IntegrityError)
    ):
        orig = getattr(exc, "orig", None) or exc
        return type(orig).__name__
    return None


def receipt_totals(source_sha256: str, conn: Connection | None = None) -> list[dict]:
    """Per receipt of a file: amount, debits and credits as Decimal, read back from the ERP (inside the
    posting's transaction when ``conn`` is given)."""
    if conn is None:
        with engine_for("erp").connect() as own:
            return receipt_totals(source_sha256, own)
    rows = query(conn, "erp/receipt_totals", {"source_sha256": source_sha256}).mappings().all()
    return [
        {
            "receipt_key": r["receipt_key"],
            "amount": cents(r["amount"]),
            "debits": cents(r["debits"]),
            "credits": cents(r["credits"]),
        }
        for r in rows
    ]
