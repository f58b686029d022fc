"""The object store's two guarantees on a local folder and on a real S3 server (SeaweedFS): a key is
created once (two racing writers: one wins), and a published file is seen whole or not at all."""

from __future__ import annotations

import json
import threading

import pytest

from revcycle.adapters.objectstore import ObjectConflict, ObjectStore
from tests.seaweedfs import ACCESS_KEY, SECRET_KEY


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return ObjectStore(str(tmp_path / "store"))
    url = request.getfixturevalue("s3_endpoint")
    bucket = f"lake-{tmp_path.name[-12:].lower().replace('_', '-')}"
    # Credentials from an Airflow connection, as in production.
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAKE_S3",
        json.dumps(
            {
                "conn_type": "aws",
                "login": ACCESS_KEY,
                "password": SECRET_KEY,
                "extra": {"endpoint_url": url, "region_name": "us-east-1"},
            }
        ),
    )
    s = ObjectStore.from_url(f"s3://{bucket}/revcycle", conn_id="lake_s3")
    s.fs.mkdir(bucket)
    return s


def test_a_key_is_created_once_and_never_overwritten(store):
    assert store.create("raw/remittance/ab/abcd", b"ISA one") is True
    assert store.create("raw/remittance/ab/abcd", b"ISA one") is False  # the same bytes: a no-op
    with pytest.raises(ObjectConflict) as info:
        store.create("raw/remittance/ab/abcd", b"ISA two")
    assert info.value.reason == "OBJECT_EXISTS"
    assert store.read("raw/remittance/ab/abcd") == b"ISA one"


def test_two_writers_racing_for_one_key_leave_one_winner(store):
    barrier, results = threading.Barrier(2), []

    def write(data: bytes) -> None:
        barrier.wait()
        try:
            results.append(store.create("raw/race", data))
        except ObjectConflict:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(d,)) for d in (b"first", b"second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(map(str, results)) == ["True", "conflict"], results
    assert store.read("raw/race") in (b"first", b"second")


def test_a_published_file_is_seen_whole_and_a_replay_adds_nothing(store):
    objects = {
        "canonical__claim_payment/business_date=2026-11-24/abc.parquet": b"P1",
        "canonical__remittance/business_date=2026-11-24/abc.parquet": b"P2",
    }
    # Objects written without their manifest (a crash before the commit point) are not published.
    store.write("lake/canonical__remark/business_date=2026-11-24/zzz.parquet", b"orphan")
    assert store.published("lake") == []
    first = store.publish("lake/_manifests/abc", {f"lake/{k}": v for k, v in objects.items()})
    seen = store.published("lake")
    assert sorted(o["key"] for o in seen) == sorted(f"lake/{k}" for k in objects)
    store.publish("lake/_manifests/abc", {f"lake/{k}": v for k, v in objects.items()})  # a replay
    assert store.published("lake") == seen and first.objects == seen
