"""Where files are kept: one storage URL gives raw/ and lake/ under it, a store's own URL wins, and with
neither everything stays in local folders (the embedded default)."""

from __future__ import annotations

import pytest

from revcycle.settings import get_settings, reset_settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path))
    for name in (
        "REVCYCLE_STORAGE_URL",
        "REVCYCLE_RAW_ZONE_URL",
        "REVCYCLE_LAKE_URL",
        "REVCYCLE_SCHEDULES",
        "REVCYCLE_CATCHUP",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


def _roots() -> tuple[str, str, str]:
    reset_settings()
    s = get_settings()
    return s.raw_root, s.lake_root, s.storage_url


def test_local_folders_by_default(env, tmp_path):
    assert _roots() == (str(tmp_path / "raw"), str(tmp_path / "lake"), "")
    assert get_settings().schedules is True and get_settings().catchup is False


def test_one_storage_url_holds_raw_and_lake(env):
    env.setenv("REVCYCLE_STORAGE_URL", "s3://bucket/revcycle/")
    assert _roots() == ("s3://bucket/revcycle/raw", "s3://bucket/revcycle/lake", "s3://bucket/revcycle")


def test_a_store_of_its_own_wins(env):
    env.setenv("REVCYCLE_STORAGE_URL", "s3://bucket/revcycle")
    env.setenv("REVCYCLE_RAW_ZONE_URL", "s3://immutable-raw/landing")
    env.setenv("REVCYCLE_SCHEDULES", "off")
    env.setenv("REVCYCLE_CATCHUP", "on")
    assert _roots() == ("s3://immutable-raw/landing", "s3://bucket/revcycle/lake", "s3://bucket/revcycle")
    assert get_settings().schedules is False and get_settings().catchup is True
