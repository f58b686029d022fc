"""Every kept file on a real S3 server (SeaweedFS, one REVCYCLE_STORAGE_URL): files land as immutable
objects, are staged, published, quarantined and posted exactly as with local folders; the ERP ends the same,
the lake holds the same records, and acknowledgements, reports and quarantined copies live in the bucket."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from revcycle.adapters import ledger
from revcycle.adapters.lake import Lake
from revcycle.adapters.landing import LocalFolder, land_file
from revcycle.adapters.objectstore import ensure_buckets, read_location, sha256_location, store_for
from revcycle.jobs import audit
from revcycle.settings import get_settings
from tests.conftest import FIXTURES, reset_caches
from tests.corpus import CASES
from tests.pipeline_helpers import erp_snapshot, run_source
from tests.seaweedfs import use_connection

DAY = dt.date(2026, 11, 24)
GOOD = (FIXTURES / "x12" / "835" / "paid-claims-four-cas-groups.835").read_bytes()
BAD = next(c for c in CASES if c.name == "835/se01-wrong").data


def _deliver() -> None:
    inbound = get_settings().inbound / "remittance"
    inbound.mkdir(parents=True, exist_ok=True)
    (inbound / "good.835").write_bytes(GOOD)
    (inbound / "bad.835").write_bytes(BAD)


def test_files_land_publish_post_and_quarantine_through_s3(rc_home, tmp_path, monkeypatch, s3_endpoint):
    _deliver()
    local = run_source("remittance", DAY)
    local_erp, local_lake = erp_snapshot(), Lake.configured().digests()
    assert "canonical__claim_payment" in local_lake
    assert (local["good.835"]["state"], local["bad.835"]["reason"]) == ("posted", "SE_COUNT_MISMATCH")

    # The same files in a new home whose raw zone is a bucket; keys from an Airflow connection.
    home = tmp_path / "s3-home"
    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    monkeypatch.setenv("REVCYCLE_STORAGE_URL", "s3://rawzone")  # one root: raw/, lake/, and every kept file
    monkeypatch.setenv("REVCYCLE_STORAGE_CONN_ID", "lake_s3")
    use_connection(monkeypatch, "lake_s3", s3_endpoint)
    reset_caches()
    assert ensure_buckets() == ["rawzone"]  # revcycle storage init
    assert ensure_buckets() == []
    store = store_for(get_settings().raw_root)
    _deliver()
    rows = run_source("remittance", DAY)
    assert (rows["good.835"]["state"], rows["bad.835"]["reason"]) == ("posted", "SE_COUNT_MISMATCH")
    assert erp_snapshot() == local_erp  # the ERP ends the same
    lake = Lake.configured()
    assert lake.digests() == local_lake  # and the lake holds the same records, in the bucket
    assert json.loads(ledger.get(rows["good.835"]["sha256"])["outputs"])[0].startswith("s3://rawzone/lake/canonical__")
    assert not [p for p in (home / "lake").rglob("*") if p.is_file()]  # nothing published or staged locally
    assert not lake.store.keys("_staging")
    good = ledger.get(rows["good.835"]["sha256"])
    sha = good["sha256"]
    assert good["raw_path"] == f"s3://rawzone/raw/remittance/{sha[:2]}/{sha}"
    assert store.read(f"remittance/{sha[:2]}/{sha}") == GOOD
    assert not [p for p in (home / "raw").rglob("*") if p.is_file()]  # nothing landed locally
    # Every other file the pipeline keeps is in the bucket too, under its path relative to home, and no
    # longer on this worker's disk: the quarantined copy and its reason, the 999s, the validation reports.
    bad = ledger.get(rows["bad.835"]["sha256"])
    bucket = store_for("s3://rawzone")
    assert bucket.read(f"quarantine/2026-11-24/{bad['sha256']}") == BAD
    assert (
        json.loads(bucket.read(f"quarantine/2026-11-24/{bad['sha256']}.reason.json"))["reason"] == "SE_COUNT_MISMATCH"
    )
    for row in (good, bad):
        assert row["ack_path"] and all(
            a.startswith("s3://rawzone/outbound/acks/2026-11-24/") for a in row["ack_path"].split(",")
        )
        assert read_location(row["ack_path"].split(",")[0]).startswith(b"ISA")
    assert good["report_path"].startswith("s3://rawzone/reports/validation/2026-11-24/")
    assert sha256_location(good["report_path"]) == good["report_sha256"]
    assert not [p for area in ("quarantine", "outbound", "reports") for p in (home / area).rglob("*") if p.is_file()]

    # A message-level source's rejected messages (PHI) go to the bucket's quarantine too, with their reasons.
    hl7 = get_settings().inbound / "supply"
    hl7.mkdir(parents=True)
    shutil.copy(FIXTURES / "hl7" / "malformed_batch.hl7", hl7)
    (batch,) = run_source("supply_usage", DAY).values()
    assert batch["state"] == "posted"
    rejected = [k for k in bucket.keys("quarantine/2026-11-24/messages") if k.endswith(".reason.json")]
    assert len(rejected) == 6 and all(Path(k).name.startswith(batch["sha256"][:16]) for k in rejected)
    assert not [p for p in (home / "quarantine").rglob("*") if p.is_file()]

    # The auditor's report reads them back from the bucket and is kept there beside them.
    index = audit.build(DAY)
    assert index == "s3://rawzone/reports/audit/2026-11-24/index.html"
    page = read_location(index).decode()
    assert "hash ok" in page and "HASH CHANGED" not in page
    assert "../../validation/2026-11-24/" in page  # relative links that hold inside the bucket

    # Landing the same bytes again creates nothing (If-None-Match), and the next run skips them.
    source_folder = LocalFolder(get_settings().inbound / "remittance")
    listed = {f.name: f for f in source_folder.list()}
    assert land_file(source_folder, listed["good.835"], f"{get_settings().raw_root}/remittance") == (
        sha,
        good["raw_path"],
    )
    again = run_source("remittance", DAY, "again")
    assert again["good.835"]["state"] == "posted" and erp_snapshot() == local_erp


def test_an_s3_outage_between_steps_is_retried_not_quarantined(rc_home, tmp_path, monkeypatch):
    """The chaos run's find (issue 26): SeaweedFS stopped during a day quarantined an 835 as VALIDATION_ERROR.
    Here the store goes away between parse and validate: validate fails (the task retries), the file stays
    parsed; with the store back on the same ports, the retry validates, publishes and posts it."""
    from revcycle.airflow import s3server
    from revcycle.pipeline import steps
    from tests.seaweedfs import ACCESS_KEY, SECRET_KEY

    server = s3server.start(tmp_path / "s3", ACCESS_KEY, SECRET_KEY)
    try:
        monkeypatch.setenv("REVCYCLE_STORAGE_URL", "s3://outage")
        monkeypatch.setenv("REVCYCLE_STORAGE_CONN_ID", "outage_s3")
        use_connection(monkeypatch, "outage_s3", server.url)
        reset_caches()
        ensure_buckets()
        _deliver()
        steps.land("remittance", DAY, "outage")
        sha = {r["original_name"]: r["sha256"] for r in ledger.for_day(DAY)}["good.835"]
        assert steps.parse("remittance", sha, "outage")["sha256"] == sha
        s3server.stop(server.pid)  # an orderly stop (the chaos run kills it)
        with pytest.raises(Exception) as failure:
            steps.validate("remittance", sha, "outage")
        assert failure.type.__module__.split(".")[0] in ("botocore", "aiohttp", "builtins")
        assert (ledger.get(sha)["state"], ledger.get(sha)["reason"]) == ("parsed", None)
        server = s3server.start(tmp_path / "s3", ACCESS_KEY, SECRET_KEY, ports=server.ports)
        steps.validate("remittance", sha, "outage")
        steps.publish("remittance", sha, "outage")
        steps.post("remittance", sha, "outage")
        assert ledger.get(sha)["state"] == "posted"
    finally:
        s3server.stop(server.pid, grace=5)
