"""SFTP transport with a pinned host key: an unknown or changed key is rejected, never added.

Credentials and the pinned key come from an Airflow connection (login,
host, port, ``extra.private_key`` or ``extra.key_file``, ``extra.host_key``
as ``"<type> <base64>"``) or are passed directly by tests.  A server whose key
differs from the pin is refused with ``HOST_KEY_MISMATCH``.
"""

from __future__ import annotations

import base64
import io
import posixpath
import stat
from dataclasses import dataclass
from typing import BinaryIO

import paramiko

from revcycle.adapters.landing import RemoteFile, check_name
from revcycle.errors import LandingError


@dataclass(frozen=True)
class SftpSettings:
    host: str
    port: int
    username: str
    host_key: str  # "ssh-ed25519 AAAA..." as in known_hosts, without the host name
    remote_dir: str
    private_key: str | None = None  # PEM/OpenSSH text
    key_file: str | None = None
    timeout: float = 30.0


def pinned_key(spec: str) -> paramiko.PKey:
    try:
        key_type, b64 = spec.split()[:2]
        return paramiko.PKey.from_type_string(key_type, base64.b64decode(b64))
    except (ValueError, TypeError, paramiko.SSHException):
        raise LandingError("HOST_KEY_CONFIG", "pinned host key is not '<type> <base64>'") from None


def _load_private_key(settings: SftpSettings) -> paramiko.PKey | None:
    if settings.private_key:
        for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return cls.from_private_key(io.StringIO(settings.private_key))
            except paramiko.SSHException:
                continue
        raise LandingError("SFTP_KEY", "private key could not be read")
    return None


class SftpFolder:
    """One remote folder on an SFTP server, listed and fetched over a verified connection."""

    def __init__(self, settings: SftpSettings) -> None:
        self.s = settings
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        client = paramiko.SSHClient()
        known = self.s.host if self.s.port == 22 else f"[{self.s.host}]:{self.s.port}"
        key = pinned_key(self.s.host_key)
        client.get_host_keys().add(known, key.get_name(), key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.s.host,
                port=self.s.port,
                username=self.s.username,
                pkey=_load_private_key(self.s),
                key_filename=self.s.key_file,
                allow_agent=False,
                look_for_keys=False,
                timeout=self.s.timeout,
                banner_timeout=self.s.timeout,
                auth_timeout=self.s.timeout,
                disabled_algorithms={"pubkeys": []},
            )
        except paramiko.BadHostKeyException:
            client.close()
            raise LandingError(
                "HOST_KEY_MISMATCH", f"host key of {self.s.host}:{self.s.port} differs from the pinned key"
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise LandingError(
                    "HOST_KEY_MISMATCH", f"{self.s.host}:{self.s.port} offered a key type that is not pinned"
                ) from None
            raise LandingError(
                "SFTP_CONNECT", f"{type(exc).__name__} connecting to {self.s.host}:{self.s.port}"
            ) from None
        self._client, self._sftp = client, client.open_sftp()
        return self._sftp

    def list(self) -> list[RemoteFile]:
        sftp = self._connect()
        out = []
        for attr in sftp.listdir_attr(self.s.remote_dir):
            if attr.st_mode is not None and stat.S_ISREG(attr.st_mode):
                out.append(RemoteFile(attr.filename, attr.st_size or 0, float(attr.st_mtime or 0)))
        return sorted(out, key=lambda f: f.name)

    def fetch(self, name: str, out: BinaryIO) -> None:
        check_name(name)
        sftp = self._connect()
        with sftp.open(posixpath.join(self.s.remote_dir, name), "rb") as fh:
            fh.prefetch()
            while block := fh.read(1 << 20):
                out.write(block)

    def upload(self, local_path: str, name: str) -> None:
        """Write to a temp name, then rename: a reader never sees a partial file."""
        check_name(name)
        sftp = self._connect()
        tmp = posixpath.join(self.s.remote_dir, f".{name}.part")
        sftp.put(local_path, tmp)
        sftp.posix_rename(tmp, posixpath.join(self.s.remote_dir, name))

    def describe(self) -> str:
        return f"sftp://{self.s.host}:{self.s.port}{self.s.remote_dir}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None


def from_airflow_connection(conn_id: str, remote_dir: str) -> SftpFolder:
    """Build the transport from an Airflow connection (secrets never pass through code)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    if not extra.get("host_key"):
        raise LandingError("HOST_KEY_CONFIG", f"connection {conn_id} has no extra.host_key to pin")
    return SftpFolder(
        SftpSettings(
            host=conn.host,
            port=conn.port or 22,
            username=conn.login,
            host_key=extra["host_key"],
            remote_dir=extra.get("remote_dir", remote_dir),
            private_key=extra.get("private_key"),
            key_file=extra.get("key_file"),
        )
    )
