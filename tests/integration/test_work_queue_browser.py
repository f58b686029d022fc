"""The work queue and dashboards in a real Airflow UI (api-server started by the test, Debian's chromium driven by
Playwright): sign in through Airflow's own login page, find the views in the navigation, filter, open an item,
assign it, resolve it, see the history, open the dashboards; screenshots kept under test-artifacts/."""

from __future__ import annotations

from revcycle.jobs import audit
from revcycle.settings import get_settings
from tests.airflow_server import api_server, password
from tests.browser import artefacts, chromium_page, needs_chromium
from tests.integration.test_work_queue import DAY, a_reconciled_day
from tests.phi import phi_values

pytestmark = needs_chromium


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)


def test_work_the_queue_in_the_airflow_ui(rc_home, request):
    manifest = a_reconciled_day()
    audit.build(DAY)  # the day's KPIs, as run-day computes them at its end
    shots = artefacts(request)
    phi = phi_values(get_settings().inbound)
    with api_server(get_settings().home) as base, chromium_page(1400, 950) as page:
        sign_in(page, base, "fiona")
        # The views are in Airflow's navigation and open inside the UI.
        page.goto(f"{base}/plugin/revcycle-queue")
        frame = page.frame_locator("iframe").first
        frame.locator("h1", has_text="Exception work queue").wait_for(timeout=30_000)
        page.screenshot(path=shots / "01-queue-in-airflow-ui.png")
        assert frame.locator("#who").inner_text() == "fiona"

        # The page itself (the same session): filter to finance, the owner's sums agree with the rows.
        page.goto(f"{base}/revcycle/queue")
        total = int(page.inner_text("#total-items"))
        assert total == len(manifest["breaks"])
        per_owner = page.locator("#by-owner tr td:nth-child(2)").all_inner_texts()
        assert sum(int(n) for n in per_owner) == total
        page.select_option("select[name=owner_team]", "finance")
        page.click("#apply")
        page.wait_for_url("**owner_team=finance**")
        rows = page.locator("#items tr[data-key]")
        assert rows.count() == int(page.inner_text("#total-items")) > 0
        assert set(page.locator("#items tr[data-key] td:nth-child(4)").all_inner_texts()) == {"finance"}
        page.screenshot(path=shots / "02-filtered-finance.png")

        # Open one, assign it, resolve it; the history shows who did what.
        rows.first.locator("a").click()
        page.wait_for_selector("#history")
        page.fill("form[data-action=assign] input[name=assignee]", "fiona")
        page.click("form[data-action=assign] button")
        page.wait_for_function("document.getElementById('item-assignee').innerText === 'fiona'")
        page.select_option("form[data-action=resolve] select[name=resolution_code]", "BANK_ADJUSTED")
        page.fill("form[data-action=resolve] input[name=note]", "bank corrected the deposit")
        page.click("form[data-action=resolve] button")
        page.wait_for_function("document.getElementById('item-status').innerText.startsWith('resolved')")
        history = page.inner_text("#history")
        assert "assigned\tfiona" in history and "resolved\tfiona" in history and "BANK_ADJUSTED" in history
        assert page.locator("form[data-action=reopen]").count() == 1  # resolved: it can be reopened
        assert page.locator("form[data-action=reassign]").count() == 0  # owners do not reassign
        assert page.locator("h3", has_text="ERP cash receipts").count() == 1
        page.screenshot(path=shots / "03-item-resolved-with-history.png", full_page=True)
        item_html = page.content()

        # The dashboards: every chart drawn, with its thresholds.
        page.goto(f"{base}/revcycle/dashboards")
        cards = page.locator(".card[id^=chart-]")
        assert cards.count() >= 10
        for name in (
            "failed_file_rate",
            "reconciliation_backlog",
            "sla_breaches",
            "failed_claim_handoffs",
            "unmatched_erp_updates",
            "interfaces_monitored_share",
            "mean_time_to_detect_minutes",
        ):
            card = page.locator(f"#chart-{name}")
            assert card.locator("svg").count() == 1, name
        assert page.locator("#chart-failed_file_rate").get_attribute("data-status") == "ok"
        assert page.locator("#chart-reconciliation_backlog").get_attribute("data-status") in ("ok", "warn")
        assert "target 2.0%" in page.locator("#chart-failed_file_rate svg").text_content()
        page.screenshot(path=shots / "04-dashboards.png", full_page=True)
        dashboards_html = page.content()

        # A viewer sees the item but is offered no action, and the API refuses one anyway.
        page.context.clear_cookies()
        sign_in(page, base, "victor")
        page.goto(f"{base}/revcycle/queue")
        page.locator("#items tr[data-key] a").first.click()
        page.wait_for_selector("#history")
        assert page.locator(".actions form").count() == 0
        key = page.url.rsplit("/", 1)[1]
        status = page.evaluate(
            """async (key) => (await fetch('../api/items/' + key + '/comment', {method: 'POST',
                 headers: {'Content-Type': 'application/json'}, body: JSON.stringify({note: 'sneaky'})})).status""",
            key,
        )
        assert status == 403
        page.screenshot(path=shots / "05-viewer-read-only.png")
    assert not {v for v in phi if v in item_html or v in dashboards_html}
