"""First-use secrets on a fresh home: created whole by one process, the same for every process that races.

The defect these tests pin (issue 26): two parse tasks created ``secrets/token.key`` together; one failed with
FileExistsError, and a process that saw the file between its creation and its write read an empty key, cached
it, and made tokens that join with nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from revcycle.domain import first_use, phi
from revcycle.errors import RevcycleError

PROCESSES = 8
MEMBER = "ZZ000000042"  # synthetic


def race(target, folder: str) -> list[tuple[str, object]]:
    """``target(folder, barrier, results)`` in PROCESSES forked processes released together by a barrier; each
    process's ("ok", value) or ("error", what); asserts they all succeeded."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=target, args=(folder, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [kind for kind, _ in got] == ["ok"] * PROCESSES, got
    return got


def _tokenise_on(home: str, barrier, results) -> None:
    os.environ["REVCYCLE_HOME"] = home
    os.environ.pop("REVCYCLE_TOKEN_KEY", None)
    from revcycle import settings

    settings.reset_settings()
    phi.reset_token_key()
    barrier.wait()
    try:
        results.put(("ok", phi.tokenise(MEMBER)))
    except Exception as exc:  # noqa: BLE001 - the parent asserts on what each process met
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize("trial", range(3))
def test_processes_racing_on_an_empty_home_all_make_the_same_token(tmp_path, monkeypatch, trial):
    home = tmp_path / "home"
    got = race(_tokenise_on, str(home))
    assert len({token for _, token in got}) == 1, got
    key = (home / "secrets" / "token.key").read_bytes()
    assert len(key.strip()) == 64 and (home / "secrets" / "token.key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (home / "secrets").iterdir()] == ["token.key"]  # no candidate left behind
    # The token is the HMAC under the key on disk: a later process (new cache) agrees.
    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    monkeypatch.delenv("REVCYCLE_TOKEN_KEY")
    from tests.conftest import reset_caches

    reset_caches()
    assert phi.tokenise(MEMBER) == got[0][1]


def _create_slowly(path: str, delay: float, started, results) -> None:
    def make() -> bytes:
        started.set()
        time.sleep(delay)  # the slow writer: its candidate is still being made
        return b"slow-writer-key-" + b"s" * 48

    results.put(first_use.create_once(Path(path), make, phi._key_problem))


def test_a_slow_writer_never_shows_a_partial_key_and_everyone_gets_the_winners(tmp_path):
    path = tmp_path / "secrets" / "token.key"
    ctx = multiprocessing.get_context("fork")
    started, results = ctx.Event(), ctx.Queue()
    slow = ctx.Process(target=_create_slowly, args=(str(path), 1.0, started, results))
    slow.start()
    assert started.wait(30)
    # While the slow writer works, the name does not exist yet (never empty), and a fast process wins.
    assert not path.exists()
    fast = first_use.create_once(path, lambda: b"fast-writer-key-" + b"f" * 48, phi._key_problem)
    slow.join(30)
    assert results.get(timeout=10) == fast == path.read_bytes()


@pytest.mark.parametrize("content", [b"", b"\n", b"0123456789"], ids=["empty", "newline", "short"])
def test_an_empty_or_short_key_file_is_refused_and_not_cached(rc_home, monkeypatch, content):
    monkeypatch.delenv("REVCYCLE_TOKEN_KEY")
    path = rc_home / "secrets" / "token.key"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)  # what a writer cut short leaves
    phi.reset_token_key()
    for _ in range(2):  # the refusal is not cached as a key: it is raised every time
        with pytest.raises(RevcycleError) as err:
            phi.tokenise(MEMBER)
        assert err.value.reason == "BAD_SECRET" and str(path) in str(err.value)
    path.write_bytes(b"a" * 64)  # restored: the next call uses it
    assert phi.tokenise(MEMBER) == phi.tokenise(MEMBER) is not None


@pytest.mark.parametrize("key", ["", "short-key"])
def test_a_short_environment_key_is_refused(monkeypatch, key):
    monkeypatch.setenv("REVCYCLE_TOKEN_KEY", key or " ")
    phi.reset_token_key()
    try:
        with pytest.raises(RevcycleError, match="REVCYCLE_TOKEN_KEY is unusable"):
            phi.tokenise(MEMBER)
    finally:
        phi.reset_token_key()


def test_a_private_file_is_never_readable_by_others_while_written(tmp_path):
    path = tmp_path / "cluster" / "passwords.json"
    first_use.write_private_atomic(path, b'{"admin": "pw"}')
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_bytes() == b'{"admin": "pw"}'
    first_use.write_private_atomic(path, b'{"admin": "pw2"}')
    assert path.read_bytes() == b'{"admin": "pw2"}' and [p.name for p in path.parent.iterdir()] == [path.name]


def _cluster_secrets_on(folder: str, barrier, results) -> None:
    os.environ["REVCYCLE_CLUSTER_HOME"] = folder
    from revcycle import settings
    from revcycle.airflow import cluster

    settings.reset_settings()
    cluster.cluster_dir.cache_clear()
    barrier.wait()
    try:
        results.put(("ok", cluster._secrets()))
    except Exception as exc:  # noqa: BLE001 - the parent asserts on what each process met
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_cluster_secrets_racing_on_a_fresh_folder_are_one_set(tmp_path):
    """``cluster up`` and ``run-day --on cluster`` (or two operators) on a fresh cluster folder."""
    folder = tmp_path / "cluster"
    got = race(_cluster_secrets_on, str(folder))
    assert all(values == got[0][1] for _, values in got) and all(got[0][1].values())
    assert (folder / "secrets.json").stat().st_mode & 0o777 == 0o600
