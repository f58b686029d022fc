"""The embedded databases' connections: WAL, a busy timeout, and a page cache large enough for a week of
days (posting inserts hashed keys onto random index pages; SQLite's 2 MiB default misses on nearly all)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from revcycle.adapters import db


@pytest.mark.parametrize("schema", ["erp", "ops"])
def test_every_connection_gets_the_large_page_cache_on_its_attached_database(rc_home, schema):
    with db.engine_for(schema).connect() as conn:
        assert conn.execute(text(f"pragma {schema}.cache_size")).scalar() == -db.SQLITE_CACHE_KIB
        assert conn.execute(text(f"pragma {schema}.journal_mode")).scalar() == "wal"
        assert conn.execute(text("pragma busy_timeout")).scalar() == 60000
    assert db.SQLITE_CACHE_KIB >= 65536  # the default's 2 MiB made a day's posting twice as slow on a week's file
