"""``Lake.integrity``: what the chaos and soak runs check after every faulted day (objects first, manifest
last, so a sound lake has no manifest naming a missing object and no published object without a manifest)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from revcycle.adapters.lake import Lake, parquet_bytes

DAY = "2026-11-24"


def _published(tmp_path) -> tuple[Lake, list[str]]:
    lake = Lake(tmp_path / "lake")
    table = pa.table({"k": ["a"], "amount": pa.array([Decimal("1.10")], pa.decimal128(18, 2))})
    out = lake.staging_writer("f" * 64)
    out.write("canonical__remittance", table)
    out.close(["canonical__remittance"], {"canonical__remittance": table.schema})
    return lake, lake.publish("f" * 64, ["canonical__remittance"], DAY, "1123456789")


def test_a_published_file_is_sound(tmp_path):
    lake, _ = _published(tmp_path)
    assert lake.integrity(DAY) == {"missing": [], "orphans": []}


def test_a_manifest_whose_object_is_gone_is_found(tmp_path):
    lake, locations = _published(tmp_path)
    lake.store.remove(lake.key_of(locations[0]))
    assert lake.integrity(DAY)["missing"] == [lake.key_of(locations[0])]


def test_an_object_no_manifest_names_is_found_and_extracts_are_not_counted(tmp_path):
    lake, _ = _published(tmp_path)
    stray = f"canonical__remittance/business_date={DAY}/payer_id=1123456789/{'e' * 64}.parquet"
    lake.store.put(stray, b"PAR1")  # a publish that died between its objects and its manifest
    lake.put_parquet(f"recon__cash/business_date={DAY}/cash.parquet", parquet_bytes(pa.table({"x": [1]})))
    assert lake.integrity(DAY) == {"missing": [], "orphans": [stray]}
    assert lake.integrity("2026-11-25") == {"missing": [], "orphans": []}
