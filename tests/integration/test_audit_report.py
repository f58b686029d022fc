"""The auditor's day index in a real headless browser (Debian chromium): it loads, every link resolves, the
linked reports render, and a seeded PHI sentinel is nowhere in what the auditor sees."""

from __future__ import annotations

import datetime as dt
import html.parser
import shutil
import subprocess
from pathlib import Path

import pytest

from revcycle.jobs import audit, sla
from revcycle.settings import get_settings
from tests.conftest import FIXTURES
from tests.pipeline_helpers import run_source

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAY = dt.date(2026, 11, 24)
SENTINEL = "SENTINELQZXPHI"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (.ci/run installs Debian's chromium)")


def dump_dom(path: Path, profile: Path) -> str:
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def test_day_index_in_chromium(rc_home, tmp_path):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "supply").mkdir(parents=True)
    for name in ("reversal-and-correction.835", "unbalanced-transaction.835"):
        text = (
            (FIXTURES / "x12" / "835" / name)
            .read_text()
            .replace("SYNTHASH", SENTINEL)
            .replace("NM1*QC*1*SYNTH", f"NM1*QC*1*{SENTINEL}")
        )
        (s.inbound / "remittance" / name).write_text(text)
    hl7 = (FIXTURES / "hl7" / "malformed_batch.hl7").read_bytes().replace(b"SYNTHTEST", SENTINEL.encode())
    (s.inbound / "supply" / "batch.hl7").write_bytes(hl7)
    assert SENTINEL in (s.inbound / "remittance" / "reversal-and-correction.835").read_text()
    rows = {**run_source("remittance", DAY), **run_source("supply_usage", DAY)}
    assert {r["state"] for r in rows.values()} == {"posted", "quarantined"}
    start = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    for n, task in enumerate(("land", "process_file.parse", "summarize")):
        sla.record_task(
            dag_id="remittance",
            task_id=task,
            run_id="scheduled__2026-11-24",
            map_index=-1,
            try_number=1,
            business_date=DAY,
            state="success",
            started_at=start,
            ended_at=start + dt.timedelta(seconds=5 + n * 400),
        )
    index = Path(audit.build(DAY))

    dom = dump_dom(index, tmp_path / "profile")
    assert "Audit report - business day 2026-11-24" in dom
    for name in (
        "reversal-and-correction.835",
        "unbalanced-transaction.835",
        "batch.hl7",
        "failed_message_rate",
        "UNBALANCED_TRANSACTION",
    ):
        assert name in dom
    assert SENTINEL not in dom
    links = Links()
    links.feed(index.read_text())
    assert len(links.hrefs) >= 8
    for href in links.hrefs:
        target = (index.parent / href).resolve()
        assert target.exists(), href
        if target.suffix == ".html":
            page = dump_dom(target, tmp_path / "profile")
            assert "Validation" in page and SENTINEL not in page, href
    # Nothing the auditor is given holds the sentinel: reports, acknowledgements, lineage extracts.
    for path in [*s.reports.rglob("*"), *(s.outbound / "acks").rglob("*")]:
        if path.is_file():
            assert SENTINEL not in path.read_bytes().decode("latin-1"), path
    # ... while the quarantine keeps the rejected messages as received (PHI allowed there).
    assert any(SENTINEL in p.read_bytes().decode("latin-1") for p in s.quarantine.rglob("*.hl7"))
