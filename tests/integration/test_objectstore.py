"""The object store's two guarantees on a local folder and on a real S3 server (SeaweedFS): a key is
created once (two racing writers: one wins), and a published file is seen whole or not at all."""

from __future__ import annotations

import threading
from decimal import Decimal

import pyarrow as pa
import pytest

from revcycle.adapters.lake import Lake
from revcycle.adapters.objectstore import ObjectConflict, ObjectStore
from tests.seaweedfs import use_connection


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return ObjectStore(str(tmp_path / "store"))
    url = request.getfixturevalue("s3_endpoint")
    bucket = f"lake-{tmp_path.name[-12:].lower().replace('_', '-')}"
    # Credentials from an Airflow connection, as in production.
    use_connection(monkeypatch, "lake_s3", url)
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
    lake = Lake("", store=store.child("lake"))
    table = pa.table({"k": ["a", "b"], "amount": pa.array([Decimal("1.10"), Decimal("2.25")], pa.decimal128(18, 2))})
    # Staged datasets (locally in place, on S3 put under _staging/) are not published.
    writer = lake.staging_writer("abc")
    writer.write("canonical__remittance", table)
    writer.close(["canonical__remittance", "canonical__remark"], {"canonical__remark": table.schema})
    lake.put_staging_json("abc", "partition", {"payer": "P1"})
    assert lake.manifests() == []
    assert lake.read_staging("abc", "canonical__remittance").equals(table)
    # Objects written without their manifest (a crash before the commit point) are not published either.
    store.put("lake/canonical__remark/business_date=2026-11-24/zzz.parquet", b"orphan")
    assert lake.manifests() == []

    first = lake.publish("abc", ["canonical__remittance", "canonical__remark"], "2026-11-24", "P1")
    assert [lake.read(loc).num_rows for loc in first] == [2, 0]
    assert first[0].endswith("canonical__remittance/business_date=2026-11-24/payer_id=P1/abc.parquet")
    seen = lake.manifests()
    assert [sorted(o["dataset"] for o in m["objects"]) for m in seen] == [
        ["canonical__remark", "canonical__remittance"]
    ]
    digests = lake.digests()
    assert lake.publish("abc", ["canonical__remittance", "canonical__remark"], "2026-11-24", "P1") == first  # replay
    assert lake.manifests() == seen and lake.digests() == digests
    assert lake.read(first[0]).column("amount").to_pylist() == [Decimal("1.10"), Decimal("2.25")]

    # Taken back (quarantined after publish): manifest first, then the objects; staging dropped.
    lake.unpublish("abc", "2026-11-24", first)
    lake.drop_staging("abc")
    assert lake.manifests() == [] and not any(lake.exists(loc) for loc in first)
    assert not store.keys("lake/_staging")


def _init_storage(barrier, results) -> None:
    from revcycle.adapters.objectstore import ensure_buckets

    barrier.wait()
    try:
        results.put(("ok", ensure_buckets()))
    except Exception as exc:  # noqa: BLE001 - the parent asserts on what each process met
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_workers_creating_the_bucket_together_all_find_it(s3_endpoint, tmp_path, monkeypatch):
    """Every worker runs ``revcycle storage init`` when it starts; on a fresh store they start together."""
    import multiprocessing

    bucket = f"fresh-{tmp_path.name[-12:].lower().replace('_', '-')}"
    use_connection(monkeypatch, "race_s3", s3_endpoint)
    monkeypatch.setenv("REVCYCLE_STORAGE_URL", f"s3://{bucket}/revcycle")
    monkeypatch.setenv("REVCYCLE_STORAGE_CONN_ID", "race_s3")
    ctx = multiprocessing.get_context("spawn")  # each a process of its own, as workers are
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_init_storage, args=(barrier, results)) for _ in range(4)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    assert [kind for kind, _ in got] == ["ok"] * 4, got
    assert sum(len(created) for _, created in got) >= 1  # somebody made it; nobody failed because another did
    assert ObjectStore.from_url(f"s3://{bucket}/revcycle", conn_id="race_s3").fs.exists(bucket)
