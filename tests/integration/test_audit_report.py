"""The auditor's day index in a real headless browser (Debian chromium through Playwright): the verdict block
says what needs attention (a 33% failed-file rate stands out in red), every link resolves, the page fits
1280 px, the latency chart has its axis, and a seeded PHI sentinel is nowhere in what the auditor sees.
Screenshots are kept under test-artifacts/."""

from __future__ import annotations

import datetime as dt
import html.parser
import json
import re
from pathlib import Path

from revcycle.jobs import audit, reconciliation, sla
from revcycle.settings import DAGS_DIR, get_settings
from tests.browser import artefacts, chromium_page, needs_chromium
from tests.conftest import FIXTURES
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)
SENTINEL = "SENTINELQZXPHI"
pytestmark = needs_chromium


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def timed(dag_id: str, task_id: str, seconds: float) -> None:
    """One successful task try of the day, as the latency listener records it."""
    start = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    sla.record_task(
        dag_id=dag_id,
        task_id=task_id,
        run_id="scheduled__2026-11-24",
        map_index=-1,
        try_number=1,
        business_date=DAY,
        state="success",
        started_at=start,
        ended_at=start + dt.timedelta(seconds=seconds),
    )


def a_day_with_a_bad_file() -> None:
    """Two 835s (one unbalanced: quarantined) and an HL7 batch with malformed messages, PHI sentinel seeded;
    three task tries recorded, two of them past their thresholds."""
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
    assert sorted(r["state"] for r in rows.values()) == ["posted", "posted", "quarantined"]
    for n, task in enumerate(("land", "process_file.parse", "summarize")):
        timed("remittance", task, 5 + n * 400)
    reconciliation.run(DAY)


def test_day_index_in_chromium(rc_home, request):
    a_day_with_a_bad_file()
    index = Path(audit.build(DAY))
    shots = artefacts(request)

    with chromium_page() as page:
        page.goto(index.as_uri())
        page.screenshot(path=shots / "index-first-screen.png")
        page.screenshot(path=shots / "index-full.png", full_page=True)
        assert page.console_errors == []
        assert page.title() == "Audit 2026-11-24"
        # Fits a 1280 px screen: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        # The verdict comes first and says what needs attention.
        verdict = page.locator("#verdict")
        assert verdict.bounding_box()["y"] < 150
        assert page.inner_text("#verdict-headline").startswith("Needs attention")
        problems = verdict.locator("ul.problems li").all_inner_texts()
        assert "1 of 3 files quarantined" in problems, problems
        assert "2 SLA breaches" in problems, problems
        assert any(p.startswith("failed_file_rate 33.3% is past its alert level") for p in problems), problems
        quarantined = page.inner_text("#verdict-quarantined")
        assert "unbalanced-transaction.835" in quarantined and "UNBALANCED_TRANSACTION" in quarantined
        # The failed-file rate is an alert, and looks like one (red background).
        rate = page.locator("#verdict-kpis tr", has_text="failed file rate")
        assert rate.get_attribute("class") == "alert" and "33.3%" in rate.inner_text()
        assert rate.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 224, 224)"
        # Every tie-out that has a separate source shows pass or fail.
        ties = page.locator("#verdict-ties tr").all_inner_texts()[1:]
        assert ties and all(re.search(r"\b(pass|fail)\b", t) for t in ties), ties
        assert "cash\tpayment_amount" in "\n".join(ties)
        assert "SLA breaches\t2" in page.inner_text("#verdict-sla")
        assert "this day" in page.inner_text("#verdict-exceptions")
        # Numbers are formatted, cells hold no raw JSON, outputs are named by dataset.
        assert not re.search(r"\d\.\d{5,}", page.inner_text("body")), "unformatted number on the page"
        assert "{" not in page.inner_text("table.files"), "raw JSON in the files table"
        assert "canonical__remittance" in page.inner_text("table.files")
        # The latency chart: one row per task, a time axis with labels, a threshold line per task.
        chart = page.locator("#latency-chart")
        assert chart.locator("g.task").count() == 3
        assert {"1 s", "10 s", "1 min", "10 min"} <= set(chart.locator("text").all_text_contents())
        assert chart.locator("line[stroke='#d50000']").count() == 3
        chart.screenshot(path=shots / "latency-chart.png")
        assert SENTINEL not in page.content()
        # Every link resolves in the browser, and the linked pages render without the sentinel.
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        assert len(hrefs) >= 8
        for n, href in enumerate(hrefs):
            target = (index.parent / href).resolve()
            assert target.exists(), href
            response = page.goto(target.as_uri())
            assert response is None or response.ok, href
            if target.suffix == ".html":
                assert "Validation" in page.inner_text("body") and SENTINEL not in page.content(), href
                page.screenshot(path=shots / f"linked-{n}.png")
            elif target.suffix == ".json":
                json.loads(target.read_text())
    links = Links()
    links.feed(index.read_text())
    assert sorted(links.hrefs) == sorted(hrefs)
    assert json.loads((index.parent / "index.json").read_text())["verdict"]["files"]["by_state"] == {
        "posted": 2,
        "quarantined": 1,
    }
    assert {p.name for p in shots.iterdir()} >= {"index-first-screen.png", "index-full.png", "latency-chart.png"}
    # Nothing the auditor is given holds the sentinel: reports, acknowledgements, lineage extracts.
    s = get_settings()
    for path in [*s.reports.rglob("*"), *(s.outbound / "acks").rglob("*")]:
        if path.is_file():
            assert SENTINEL not in path.read_bytes().decode("latin-1"), path
    # ... while the quarantine keeps the rejected messages as received (PHI allowed there).
    assert any(SENTINEL in p.read_bytes().decode("latin-1") for p in s.quarantine.rglob("*.hl7"))


def test_a_clean_day_says_so(rc_home, request):
    s = get_settings()
    (s.inbound / "remittance").mkdir(parents=True)
    (s.inbound / "remittance" / "r.835").write_bytes(
        (FIXTURES / "x12" / "835" / "reversal-and-correction.835").read_bytes()
    )
    assert {r["state"] for r in run_source("remittance", DAY).values()} == {"posted"}
    for dag_file in sorted(DAGS_DIR.glob("*.py")):  # every interface monitored, each in time
        timed(dag_file.stem, "run", 3)
    reconciliation.run(DAY)
    index = Path(audit.build(DAY))
    with chromium_page() as page:
        page.goto(index.as_uri())
        page.screenshot(path=artefacts(request) / "index-first-screen.png")
        assert page.inner_text("#verdict-headline").startswith("All checks passed")
        assert page.locator("#verdict ul.problems").count() == 0
        assert page.locator("#verdict-ties tr.fail").count() == 0 and page.locator("#verdict-ties tr.pass").count() > 0
