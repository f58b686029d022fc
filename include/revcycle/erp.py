"""ERP interface loader: staged rows moved into the interface tables in one transaction.

Idempotent on business keys: rows go to a temp staging table, then one
``insert ... select ... on conflict do nothing`` (named SQL in ``sql/erp``)
moves the ones not posted yet.  On PostgreSQL the staging table is filled with
COPY, and a table's rows are first tried with one COPY straight into the table
(see ``_copy_direct``); on SQLite the stage is filled with an executemany insert.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, bindparam, column, insert, table, text

from revcycle.db import engine_for, sql, statements

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
        stage = table(f"stage_{name}", *(column(c) for c in rows[0]))
        conn.execute(insert(stage), rows)


def load(rows_by_table: dict[str, list[dict]]) -> dict[str, int]:
    """Post all tables of one source file atomically, in the order given; return rows inserted or updated."""
    inserted = {}
    with engine_for("erp").begin() as conn:
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
            inserted[name] = conn.execute(text(sql(f"erp/load_{name}"))).rowcount
    return inserted


def receipt_totals(source_sha256: str) -> list[dict]:
    """Per receipt of a file: amount, debits and credits as Decimal, read back from the ERP."""
    with engine_for("erp").connect() as conn:
        rows = conn.execute(text(sql("erp/receipt_totals")), {"source_sha256": source_sha256}).mappings().all()
    cent = Decimal("0.01")
    return [{"receipt_key": r["receipt_key"],
             "amount": Decimal(str(r["amount"])).quantize(cent),
             "debits": Decimal(str(r["debits"])).quantize(cent),
             "credits": Decimal(str(r["credits"])).quantize(cent)} for r in rows]


def receipt_owners(keys: list[str]) -> dict[str, str]:
    """Receipt keys already in the ERP, with the sha256 of the file that posted each."""
    if not keys:
        return {}
    stmt = text(sql("erp/receipt_owners")).bindparams(bindparam("keys", expanding=True))
    with engine_for("erp").connect() as conn:
        return {r[0]: r[1] for r in conn.execute(stmt, {"keys": keys})}
