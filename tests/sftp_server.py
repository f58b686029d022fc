"""An in-process SFTP server (asyncssh) on loopback for tests: real SSH, real SFTP, pinned host key."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import asyncssh


class InProcessSftp:
    def __init__(self, root: Path, host_key: asyncssh.SSHKey | None = None) -> None:
        self.root = root
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def host_key_spec(self) -> str:
        """The server's public key as '<type> <base64>' (what operators pin)."""
        return (
            self.host_key.export_public_key("openssh").decode().split()[0]
            + " "
            + self.host_key.export_public_key("openssh").decode().split()[1]
        )

    @property
    def client_private_key(self) -> str:
        return self.client_key.export_private_key("openssh").decode()

    def __enter__(self) -> InProcessSftp:
        self._thread.start()
        authorized = asyncssh.import_authorized_keys(self.client_key.export_public_key("openssh").decode())
        root = str(self.root)

        async def start():
            return await asyncssh.listen(
                "127.0.0.1",
                0,
                server_host_keys=[self.host_key],
                authorized_client_keys=authorized,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
                allow_scp=False,
            )

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def airflow_connection(self, key_folder, login: str = "revcycle") -> str:
        """An ``AIRFLOW_CONN_*`` JSON value for this server: pinned host key, client key in a file."""
        import json
        from pathlib import Path

        key_file = Path(key_folder) / f"client_key_{self.port}"
        key_file.write_text(self.client_private_key)
        return json.dumps(
            {
                "conn_type": "sftp",
                "host": "127.0.0.1",
                "port": self.port,
                "login": login,
                "extra": {"host_key": self.host_key_spec, "key_file": str(key_file)},
            }
        )

    def __exit__(self, *exc) -> None:
        # Not wait_closed(): on Python 3.11 it races with connections detaching (asyncio Server._wakeup
        # runs twice and raises on None waiters); closing and stopping the loop is enough for a test server.
        self._loop.call_soon_threadsafe(self._server.close)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.2), self._loop).result(5)  # let sessions wind down
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
