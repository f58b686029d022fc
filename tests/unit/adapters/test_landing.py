"""Landing: refuse dangerous names, content-addressed raw zone, ledger skips known bytes, SFTP with a pinned key."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from revcycle.adapters import ledger
from revcycle.adapters.landing import LocalFolder, RemoteFile, check_name, land_file, land_source, stable_files
from revcycle.adapters.sftp import SftpFolder, SftpSettings
from revcycle.errors import LandingError
from tests.sftp_server import InProcessSftp

DAY = dt.date(2026, 11, 20)


@pytest.mark.parametrize("name", ["", "a/b.835", "..\\x", "..", "a..b", "x\x00y", "n" * 256, "tab\tname"])
def test_dangerous_names_are_refused(name):
    with pytest.raises(LandingError) as info:
        check_name(name)
    assert info.value.reason == "BAD_FILENAME"


def test_raw_zone_is_content_addressed_and_read_only(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.835").write_bytes(b"ISA-bytes")
    sha, path = land_file(LocalFolder(src), RemoteFile("a.835", 9, 0), tmp_path / "raw")
    path = Path(path)
    assert path == tmp_path / "raw" / sha[:2] / sha and path.read_bytes() == b"ISA-bytes"
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert not list((tmp_path / "raw").glob(".landing-*"))


def test_size_mismatch_leaves_nothing_behind(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.835").write_bytes(b"12345")
    with pytest.raises(LandingError) as info:
        land_file(LocalFolder(src), RemoteFile("a.835", 99, 0), tmp_path / "raw")
    assert info.value.reason == "SIZE_MISMATCH"
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.is_file()]


def test_files_still_growing_are_not_landed(tmp_path):
    class Growing(LocalFolder):
        calls = 0

        def list(self):
            self.calls += 1
            return [RemoteFile("a.835", 10 * self.calls, 1.0), RemoteFile("b.835", 5, 1.0)]

    assert [f.name for f in stable_files(Growing(tmp_path), 0.01, ["*.835"])] == ["b.835"]


def test_known_bytes_are_skipped_by_sha256(rc_home):
    inbound = rc_home / "in"
    inbound.mkdir(parents=True)
    (inbound / "one.835").write_text("same bytes")
    first = land_source("remittance", LocalFolder(inbound), rc_home / "raw", ["*.835"], DAY, 0, "run1")
    (inbound / "copy-of-one.835").write_text("same bytes")
    second = land_source("remittance", LocalFolder(inbound), rc_home / "raw", ["*.835"], DAY, 0, "run2")
    assert len(first.landed) == 1 and second.landed == [] and second.skipped == 2
    row = ledger.get(first.landed[0])
    assert row["state"] == "landed" and row["original_name"] == "one.835" and row["size_bytes"] == 10


def _sftp(server: InProcessSftp, host_key: str | None = None) -> SftpFolder:
    return SftpFolder(
        SftpSettings(
            host="127.0.0.1",
            port=server.port,
            username="payer",
            host_key=host_key or server.host_key_spec,
            remote_dir="/out",
            private_key=server.client_private_key,
            timeout=10,
        )
    )


def test_sftp_landing_with_pinned_host_key(rc_home, tmp_path):
    root = tmp_path / "sftp"
    (root / "out").mkdir(parents=True)
    (root / "out" / "era_1.835").write_bytes(b"ERA ONE")
    (root / "out" / "notes.txt.tmp").write_bytes(b"ignored")
    with InProcessSftp(root) as server:
        transport = _sftp(server)
        try:
            result = land_source("remittance", transport, rc_home / "raw", ["*.835"], DAY, 0, "run")
        finally:
            transport.close()
    assert len(result.landed) == 1
    assert open(ledger.get(result.landed[0])["raw_path"], "rb").read() == b"ERA ONE"


def test_sftp_server_with_a_changed_host_key_is_refused(tmp_path):
    import asyncssh

    root = tmp_path / "sftp"
    (root / "out").mkdir(parents=True)
    pinned = asyncssh.generate_private_key("ssh-ed25519")
    pinned_spec = " ".join(pinned.export_public_key("openssh").decode().split()[:2])
    with InProcessSftp(root) as server:  # the server now presents a different key
        transport = _sftp(server, host_key=pinned_spec)
        with pytest.raises(LandingError) as info:
            transport.list()
    assert info.value.reason == "HOST_KEY_MISMATCH"


def test_sftp_upload_is_atomic_rename(tmp_path):
    root = tmp_path / "sftp"
    (root / "out").mkdir(parents=True)
    local = tmp_path / "ack.999"
    local.write_text("ISA...")
    with InProcessSftp(root) as server:
        transport = _sftp(server)
        transport.upload(str(local), "ack.999")
        transport.close()
    assert (root / "out" / "ack.999").read_text() == "ISA..." and not list((root / "out").glob(".*part"))


def test_land_step_reads_sftp_settings_from_an_airflow_connection(rc_home, tmp_path, monkeypatch):
    """Production path: REVCYCLE_INBOUND_CONN_ID names an Airflow connection; nothing else changes."""
    from revcycle.pipeline import steps
    from tests.conftest import reset_caches

    root = tmp_path / "sftp"
    (root / "remittance").mkdir(parents=True)
    (root / "remittance" / "era.835").write_bytes(b"ERA VIA CONNECTION")
    with InProcessSftp(root) as server:
        monkeypatch.setenv("AIRFLOW_CONN_PAYER_SFTP", server.airflow_connection(tmp_path, "payer"))
        monkeypatch.setenv("REVCYCLE_INBOUND_CONN_ID", "payer_sftp")
        reset_caches()
        result = steps.land("remittance", DAY, "run")
    assert result["landed"] == 1
    assert open(ledger.get(result["files"][0])["raw_path"], "rb").read() == b"ERA VIA CONNECTION"


def test_connection_without_a_pinned_key_is_refused(rc_home, monkeypatch):
    import json

    from revcycle.adapters.sftp import from_airflow_connection

    monkeypatch.setenv("AIRFLOW_CONN_NOPIN", json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "login": "x"}))
    with pytest.raises(LandingError) as info:
        from_airflow_connection("nopin", "/in")
    assert info.value.reason == "HOST_KEY_CONFIG"


# -- never a link, never a FIFO (issue 13, item 15) --------------------------------------------------------
def _refusals():
    return [(r["original_name"], r["reason"]) for r in ledger.refused(DAY)]


def test_symlinks_and_fifos_in_the_inbound_folder_are_refused_and_recorded(rc_home, tmp_path):
    inbound = rc_home / "in"
    inbound.mkdir(parents=True)
    secret = tmp_path / "outside-the-inbound-folder.835"
    secret.write_text("NOT FOR LANDING")
    (inbound / "good.835").write_text("GOOD")
    os.symlink(secret, inbound / "link.835")
    os.mkfifo(inbound / "pipe.835")  # opening it for reading would block forever
    os.mkfifo(inbound / "pipe.unrelated")  # not one of the source's patterns: not its business
    for attempt in ("run1", "run2"):
        result = land_source("remittance", LocalFolder(inbound), rc_home / "raw", ["*.835"], DAY, 0, attempt)
    assert result.landed == [] and result.skipped == 1  # good.835 landed by run1
    assert sorted(r["reason"] for r in result.refused) == ["NOT_A_REGULAR_FILE"] * 2
    assert sorted(_refusals()) == [("link.835", "NOT_A_REGULAR_FILE"), ("pipe.835", "NOT_A_REGULAR_FILE")]
    landed = [p for p in (rc_home / "raw").rglob("*") if p.is_file()]
    assert [p.read_text() for p in landed] == ["GOOD"]


@pytest.mark.parametrize("swap", ["symlink", "fifo"])
def test_an_entry_swapped_between_list_and_fetch_is_refused(rc_home, tmp_path, swap):
    inbound = rc_home / "in"
    inbound.mkdir(parents=True)
    secret = tmp_path / "secret.835"
    secret.write_text("SECRET!")
    (inbound / "era.835").write_text("ERA ONE")

    class Swapping(LocalFolder):
        def list(self):
            listed = super().list()  # era.835 is a regular file of 7 bytes now ...
            (inbound / "era.835").unlink()  # ... and something else by the time it is fetched
            if swap == "symlink":
                os.symlink(secret, inbound / "era.835")
            else:
                os.mkfifo(inbound / "era.835")
            return listed

    result = land_source("remittance", Swapping(inbound), rc_home / "raw", ["*.835"], DAY, 0, "run")
    assert result.landed == [] and [r["reason"] for r in result.refused] == ["NOT_A_REGULAR_FILE"]
    assert _refusals() == [("era.835", "NOT_A_REGULAR_FILE")]
    assert not [p for p in (rc_home / "raw").rglob("*") if p.is_file()]


# -- files that may hold PHI are private (issue 13, item 14) ----------------------------------------------
def _private(path) -> bool:
    return (path.stat().st_mode & 0o777) in (0o600, 0o640, 0o440, 0o400, 0o750, 0o700)


def test_quarantine_copies_and_rejected_messages_are_private(rc_home):
    import datetime as dt

    from revcycle.settings import get_settings
    from tests.corpus import CASES
    from tests.pipeline_helpers import run_source

    s = get_settings()
    os.umask(0o022)
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "remittance" / "bad.835").write_bytes(next(c for c in CASES if c.name == "835/se01-wrong").data)
    (s.inbound / "supply").mkdir(parents=True)
    (s.inbound / "supply" / "one-bad.hl7").write_bytes(next(c for c in CASES if c.name == "hl7/ft1-10-zero").data)
    run_source("remittance", dt.date(2026, 11, 24))
    run_source("supply_usage", dt.date(2026, 11, 24))
    kept = [p for p in s.quarantine.rglob("*")]
    assert any(p.suffix == ".hl7" for p in kept) and any(p.name.endswith(".reason.json") for p in kept)
    assert kept and all(_private(p) for p in kept), [(p, oct(p.stat().st_mode)) for p in kept if not _private(p)]
    assert _private(s.quarantine) and _private(s.raw_zone)
