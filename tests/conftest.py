"""Shared fixtures: an isolated revcycle home per test, and the third-party samples when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = (ROOT / ".." / "shared" / "samples").resolve()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES_MISSING = (
    "third-party samples not found at ../shared/samples (a fresh clone has none); "
    "the synthetic fixtures in tests/fixtures cover the same behaviours"
)


def samples_dir(kind: str) -> Path:
    path = SAMPLES / kind
    if not path.is_dir():
        pytest.skip(SAMPLES_MISSING)
    return path


def sample_files(kind: str) -> list:
    """Sample files for parametrisation; one skipped case saying why when the samples are absent."""
    path = SAMPLES / kind
    if not path.is_dir():
        return [pytest.param(None, id="samples-absent", marks=pytest.mark.skip(reason=SAMPLES_MISSING))]
    return sorted(p for p in path.iterdir() if p.is_file())


def reset_caches() -> None:
    from revcycle import settings
    from revcycle.adapters import db
    from revcycle.domain import phi

    settings.reset_settings()
    db.reset_engines()
    phi.reset_token_key()


@pytest.fixture
def rc_home(tmp_path, monkeypatch) -> Path:
    """A fresh REVCYCLE_HOME (inbound, lake, SQLite ERP and ops) for one test."""
    home = tmp_path / "rc"
    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    monkeypatch.setenv("REVCYCLE_TOKEN_KEY", "test-token-key-0001")
    for var in (
        "REVCYCLE_ERP_URL",
        "REVCYCLE_OPS_URL",
        "REVCYCLE_INBOUND_CONN_ID",
        "REVCYCLE_ERP_CONN_ID",
        "REVCYCLE_LAKE",
        "REVCYCLE_INBOUND",
    ):
        monkeypatch.delenv(var, raising=False)
    reset_caches()
    yield home
    reset_caches()


@pytest.fixture(autouse=True)
def _token_key(monkeypatch):
    if not os.environ.get("REVCYCLE_TOKEN_KEY"):
        monkeypatch.setenv("REVCYCLE_TOKEN_KEY", "test-token-key-0001")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, rc_home, monkeypatch):
    """The embedded default (SQLite files), and the production database (PostgreSQL: COPY paths, its SQL)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    from tests.postgres import fresh_database

    with fresh_database() as url:
        monkeypatch.setenv("REVCYCLE_ERP_URL", url)
        monkeypatch.setenv("REVCYCLE_OPS_URL", url)
        reset_caches()
        yield "postgresql"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """One real S3-compatible server (SeaweedFS) for the session's object-storage tests."""
    from tests.seaweedfs import seaweedfs

    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as url:
        yield url


def use_home(monkeypatch, home: Path, *unset: str):
    """Switch this test to another fresh REVCYCLE_HOME (one route of a side-by-side comparison), with the
    named variables unset; return its settings."""
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    monkeypatch.setenv("REVCYCLE_TOKEN_KEY", "side-by-side-key-0001")
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    reset_caches()
    return get_settings()
