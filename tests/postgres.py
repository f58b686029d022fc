"""A throwaway PostgreSQL database for tests, on the server at REVCYCLE_TEST_PG (default 127.0.0.1:5432)."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

ADMIN = os.environ.get("REVCYCLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_database():
    import psycopg

    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"no PostgreSQL server answers at {ADMIN} ({type(exc).__name__}); "
            "set REVCYCLE_TEST_PG to a server where the tests may create databases"
        )
    name = f"revcycle_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'create database "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    finally:
        from revcycle.adapters.db import reset_engines

        reset_engines()
        admin.execute(f'drop database if exists "{name}" with (force)')
        admin.close()
