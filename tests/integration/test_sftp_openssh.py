"""Landing from a real OpenSSH sshd on loopback: key authentication, pinned host key, refusal on change."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from revcycle.adapters import ledger
from revcycle.adapters.landing import land_source
from revcycle.adapters.sftp import SftpFolder, SftpSettings
from revcycle.errors import LandingError

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(SSHD) and shutil.which("ssh-keygen")),
    reason="OpenSSH server not installed (CI installs Debian's openssh-server)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@pytest.fixture
def sshd(tmp_path):
    etc = tmp_path / "sshd"
    etc.mkdir()
    host_pub = _keygen(etc / "host_key")
    client_pub = _keygen(etc / "client_key")
    (etc / "authorized_keys").write_text(client_pub + "\n")
    os.chmod(etc / "authorized_keys", 0o600)
    root = tmp_path / "drop"
    (root / "outbox").mkdir(parents=True)
    port = _free_port()
    (etc / "sshd_config").write_text(f"""
Port {port}
ListenAddress 127.0.0.1
HostKey {etc / "host_key"}
PidFile {etc / "sshd.pid"}
AuthorizedKeysFile {etc / "authorized_keys"}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
""")
    Path("/run/sshd").mkdir(exist_ok=True) if os.geteuid() == 0 else None
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(etc / "sshd_config")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("sshd exited: " + proc.stderr.read().decode()[-1000:])
            time.sleep(0.1)
    yield {
        "port": port,
        "host_key": host_pub,
        "client_key": str(etc / "client_key"),
        "root": root,
        "other_key": _keygen(etc / "other_key"),
    }
    proc.terminate()
    proc.wait(5)


def _folder(sshd, host_key) -> SftpFolder:
    return SftpFolder(
        SftpSettings(
            host="127.0.0.1",
            port=sshd["port"],
            username=getpass.getuser(),
            host_key=host_key,
            remote_dir=str(sshd["root"] / "outbox"),
            key_file=sshd["client_key"],
            timeout=10,
        )
    )


def test_lands_over_openssh_with_the_pinned_key(rc_home, sshd):
    (sshd["root"] / "outbox" / "era_1.835").write_bytes(b"ERA BYTES")
    (sshd["root"] / "outbox" / "ignore.me").write_bytes(b"not an 835")
    transport = _folder(sshd, sshd["host_key"])
    try:
        result = land_source("remittance", transport, rc_home / "raw", ["*.835"], dt.date(2026, 11, 24), 0.2, "run")
    finally:
        transport.close()
    assert len(result.landed) == 1
    assert Path(ledger.get(result.landed[0])["raw_path"]).read_bytes() == b"ERA BYTES"


def test_refuses_openssh_when_the_host_key_differs(sshd):
    transport = _folder(sshd, sshd["other_key"])
    with pytest.raises(LandingError) as info:
        transport.list()
    assert info.value.reason == "HOST_KEY_MISMATCH"
