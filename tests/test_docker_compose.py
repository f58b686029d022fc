"""docker-compose.yaml: valid for Compose (no engine runs here) and shaped as the architecture says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "AIRFLOW_DB_PASSWORD": "x",
    "ERP_DB_PASSWORD": "x",
    "MARQUEZ_DB_PASSWORD": "x",
    "SFTP_PASSWORD": "x",
    "PAYER_SFTP_HOST_KEY": "ssh-ed25519 AAAA",
    "PAYER_SFTP_PRIVATE_KEY_FILE": "/dev/null",
    "REVCYCLE_TOKEN_KEY": "x",
    "AIRFLOW_FERNET_KEY": "x",
    "AIRFLOW_JWT_SECRET": "x" * 64,
    "S3_ACCESS_KEY": "x",
    "S3_SECRET_KEY": "x",
    "S3_IDENTITIES_FILE": "/dev/null",
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_services_of_the_production_stack():
    services = compose()["services"]
    for name in (
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-db",
        "erp-db",
        "sftp",
        "marquez",
    ):
        assert name in services
    mounts = " ".join(services["airflow-scheduler"]["volumes"])
    for folder in ("./dags", "./plugins", "./include", "./expectations", "./sql"):
        assert folder + ":" in mounts
    env = services["airflow-worker"]["environment"]
    assert "marquez" in env["AIRFLOW__OPENLINEAGE__TRANSPORT"]
    assert "AutoAdd" not in (ROOT / "docker-compose.yaml").read_text()


def test_every_kept_file_is_in_object_storage_and_no_volume_is_shared_between_workers():
    """The cluster's shape: one S3 storage root (keys from an Airflow connection), the execution API and
    a shared JWT secret, and no named volume for revcycle's files, so workers scale on any host."""
    services = compose()["services"]
    assert "s3" in services and "broker" in services
    env = services["airflow-worker"]["environment"]
    assert env["REVCYCLE_STORAGE_URL"].startswith("s3://")
    conn_id = env["REVCYCLE_STORAGE_CONN_ID"]
    lake_conn = env[f"AIRFLOW_CONN_{conn_id.upper()}"]
    assert "${S3_ACCESS_KEY" in lake_conn and "${S3_SECRET_KEY" in lake_conn  # never a key in the file
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    airflow = [n for n, svc in services.items() if svc.get("image", "").startswith("apache/airflow")]
    assert {"airflow-worker", "airflow-scheduler", "airflow-apiserver"} <= set(airflow)
    for name in airflow:
        named = [v.split(":")[0] for v in services[name].get("volumes", []) if not v.startswith(("./", "$"))]
        assert named == [], (name, named)
    assert "revcycle storage init" in " ".join(services["airflow-init"]["command"])


def test_only_the_worker_preloads_great_expectations():
    services = compose()["services"]
    worker = services["airflow-worker"]["environment"]
    assert worker["REVCYCLE_PRELOAD"] == "revcycle.adapters.validation"
    assert worker["PYTHONPATH"] == "/opt/revcycle/include"  # where airflow_local_settings.py is found
    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-apiserver"):
        assert "REVCYCLE_PRELOAD" not in services[name].get("environment", {})


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed (CI installs Debian's)")
def test_compose_file_validates():
    env = dict(os.environ, **SECRETS)
    out = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed (CI installs Debian's)")
def test_missing_secret_is_refused():
    env = {k: v for k, v in dict(os.environ, **SECRETS).items() if k != "ERP_DB_PASSWORD"}
    out = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "ERP_DB_PASSWORD" in out.stderr
