"""A real ``airflow api-server`` for a test: the project's Airflow home, plugins and DAGs, Airflow's simple auth
manager with known users and passwords, on a free loopback port; stopped (its whole process group) after."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# Airflow roles; queue ownership comes from include/config/work_queue_members.csv.
USERS = {"admin": "admin", "fiona": "viewer", "rita": "viewer", "victor": "viewer"}
# The test server's token key: a test signs its own tokens with it (expired ones) or with another (forged).
JWT_SECRET = "revcycle-test-jwt-secret-" + "x" * 48


def password(user: str) -> str:
    return f"pw-{user}-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def api_server(home: Path, timeout: float = 120) -> Iterator[str]:
    """Start the api-server on ``home`` (REVCYCLE_HOME; the ERP/ops URLs of this process's environment) and
    yield its base URL once it answers."""
    from revcycle.airflow.runtime import _airflow_bin, airflow_env, ensure_airflow_home

    env = airflow_env(home / "airflow")
    env["REVCYCLE_HOME"] = str(home)
    passwords = home / "airflow" / "passwords.json"
    env.update(
        {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
            "AIRFLOW__API__SECRET_KEY": "revcycle-test-secret-key",
        }
    )
    ensure_airflow_home(env, lambda m: None)
    passwords.write_text(json.dumps({u: password(u) for u in USERS}))
    port = free_port()
    log = open(home / "api-server.log", "wb")
    proc = subprocess.Popen(
        [*_airflow_bin(), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the api-server stopped: see {home / 'api-server.log'}")
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the api-server did not answer in {timeout}s: see {home / 'api-server.log'}")
            time.sleep(0.5)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def token(base: str, user: str) -> str:
    answer = httpx.post(f"{base}/auth/token", json={"username": user, "password": password(user)}, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def client(base: str, user: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(base, user)}"} if user else {}
    return httpx.Client(base_url=base, headers=headers, timeout=30)
