"""The exception work queue: its API inside a real Airflow api-server (Airflow's own auth manager and tokens)
for every action and role, on SQLite and PostgreSQL; filters and sums; and reconciliation runs that keep
people's decisions (a resolved break still found stays resolved with a note; a vanished one closes itself)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revcycle.jobs import reconciliation, work_queue
from revcycle.jobs.work_queue import Actor, Filters
from revcycle.settings import get_settings
from revcycle.synthetic.day import generate_day
from tests.airflow_server import api_server, client
from tests.phi import phi_values
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)
SOURCES = ("open_items", "remittance", "bank_deposits", "claim_status", "supply_usage", "supplier_invoices")


def a_reconciled_day(claims: int = 200, seed: int = 13) -> dict:
    manifest = generate_day(get_settings().inbound, DAY, claims, seed, supply_messages=60)
    for source in SOURCES:
        run_source(source, DAY)
    reconciliation.run(DAY, "run")
    return manifest


def first(team: str) -> dict:
    return next(i for i in work_queue.listing(Filters(owner_team=team, sort="reference"))["items"])


def test_api_actions_and_roles_through_airflow_auth(backend):
    a_reconciled_day()
    finance, revenue = first("finance"), first("revenue cycle")
    home = get_settings().home
    with api_server(home) as base:
        nobody, victor = client(base, None), client(base, "victor")
        fiona, rita, admin = client(base, "fiona"), client(base, "rita"), client(base, "admin")
        assert nobody.get("/revcycle/api/items").status_code == 401
        assert nobody.post(f"/revcycle/api/items/{finance['item_key']}/comment", json={"note": "x"}).status_code == 401
        assert victor.get("/revcycle/api/me").json() == {
            "name": "victor",
            "role": "viewer",
            "teams": [],
            "admin": False,
        }
        assert fiona.get("/revcycle/api/me").json()["teams"] == ["finance"]
        assert admin.get("/revcycle/api/me").json()["admin"] is True

        # Everyone who may see the view reads the queue, an item with its evidence, and the dashboards.
        listing = victor.get("/revcycle/api/items").json()
        assert listing["total"]["items"] == len(listing["items"]) > 0
        detail = victor.get(f"/revcycle/api/items/{finance['item_key']}").json()
        assert detail["item"]["reference"] == finance["reference"] and detail["may"]["comment"] is False
        assert [s["title"] for s in detail["sections"]] == ["ERP cash receipts", "bank deposit lines", "835 payments"]
        assert victor.get("/revcycle/api/dashboards").status_code == 200
        assert (
            victor.get("/revcycle/queue").status_code == 200 and victor.get("/revcycle/dashboards").status_code == 200
        )

        # A viewer changes nothing, whatever the page shows.
        for action, body in (
            ("assign", {"assignee": "victor"}),
            ("comment", {"note": "mine"}),
            ("resolve", {"resolution_code": "NOT_AN_ERROR"}),
            ("reassign", {"owner_team": "finance"}),
        ):
            answer = victor.post(f"/revcycle/api/items/{finance['item_key']}/{action}", json=body)
            assert answer.status_code == 403 and "NOT_ALLOWED" in answer.json()["detail"], (action, answer.text)
        assert work_queue.history(finance["item_key"])[-1]["actor"] == "reconciliation"

        # An owner works their team's items: assign, comment, resolve, reopen; each an event with who and when.
        key = finance["item_key"]
        assert fiona.post(f"/revcycle/api/items/{key}/assign", json={"assignee": "fiona"}).status_code == 200
        assert fiona.post(f"/revcycle/api/items/{key}/comment", json={"note": "asked the bank"}).status_code == 200
        done = fiona.post(f"/revcycle/api/items/{key}/resolve", json={"resolution_code": "BANK_ADJUSTED", "note": "ok"})
        assert done.status_code == 200 and done.json()["item"]["status"] == "resolved"
        assert (
            fiona.post(f"/revcycle/api/items/{key}/resolve", json={"resolution_code": "BANK_ADJUSTED"}).status_code
            == 400
        )
        assert fiona.post(f"/revcycle/api/items/{key}/reopen", json={"note": "bank says no"}).status_code == 200
        events = work_queue.history(key)
        assert [(e["event"], e["actor"]) for e in events[-4:]] == [
            ("assigned", "fiona"),
            ("commented", "fiona"),
            ("resolved", "fiona"),
            ("reopened", "fiona"),
        ]
        assert events[-2]["resolution_code"] == "BANK_ADJUSTED" and all(e["event_at"] for e in events)
        # ... but not another team's items, and never reassigns.
        assert fiona.post(f"/revcycle/api/items/{revenue['item_key']}/comment", json={"note": "x"}).status_code == 403
        assert (
            fiona.post(f"/revcycle/api/items/{key}/reassign", json={"owner_team": "revenue cycle"}).status_code == 403
        )
        assert rita.post(f"/revcycle/api/items/{revenue['item_key']}/comment", json={"note": "mine"}).status_code == 200
        assert rita.post(f"/revcycle/api/items/{key}/assign", json={"assignee": "rita"}).status_code == 403

        # An admin reassigns between teams; the new team's owner may then work it, the old one not.
        moved = admin.post(f"/revcycle/api/items/{key}/reassign", json={"owner_team": "revenue cycle", "note": "GL"})
        assert moved.status_code == 200 and moved.json()["item"]["owner_team"] == "revenue cycle"
        assert rita.post(f"/revcycle/api/items/{key}/assign", json={"assignee": "rita"}).status_code == 200
        assert fiona.post(f"/revcycle/api/items/{key}/comment", json={"note": "x"}).status_code == 403

        # Bad requests are refused with a reason, never a traceback.
        assert fiona.post(f"/revcycle/api/items/{revenue['item_key']}x/comment", json={"note": "x"}).status_code == 404
        assert rita.post(f"/revcycle/api/items/{key}/resolve", json={"resolution_code": "BECAUSE"}).status_code == 400
        assert rita.post(f"/revcycle/api/items/{key}/fly", json={}).status_code == 400
        assert rita.post(f"/revcycle/api/items/{key}/comment", json={}).status_code == 400
        form = rita.post(f"/revcycle/api/items/{key}/comment", data={"note": "from a form"})
        assert form.status_code == 415  # a cross-site form cannot act with the session cookie
        assert victor.get("/revcycle/api/items", params={"min_age": "old"}).status_code == 400

        # No patient data on any page or answer.
        phi = phi_values(get_settings().inbound)
        assert len(phi) > 20
        pages = [victor.get(p).text for p in ("/revcycle/queue", "/revcycle/dashboards", "/revcycle/api/items")]
        for it in listing["items"][:25]:
            pages += [
                victor.get(f"/revcycle/queue/{it['item_key']}").text,
                victor.get(f"/revcycle/api/items/{it['item_key']}").text,
            ]
        leaks = {v for v in phi for page in pages if v in page}
        assert leaks == set()


def test_filters_sorting_and_sums_per_owner(rc_home):
    manifest = a_reconciled_day()
    every = work_queue.listing(Filters())
    assert every["total"]["items"] == len(manifest["breaks"])
    for owner in every["by_owner"]:
        mine = work_queue.listing(Filters(owner_team=owner["owner_team"]))
        assert mine["total"] == {"items": owner["items"], "amount": owner["amount"]}
        assert {i["owner_team"] for i in mine["items"]} == {owner["owner_team"]}
    assert sum(o["amount"] for o in every["by_owner"]) == every["total"]["amount"]
    amounts = [i["amount_at_stake"] for i in every["items"]]
    assert amounts == sorted(amounts, reverse=True)
    big = work_queue.listing(Filters(min_amount=Decimal("100")))["items"]
    assert big and all(i["amount_at_stake"] >= 100 for i in big)
    cash = work_queue.listing(Filters(category="payment_without_deposit"))["items"]
    payer = cash[0]["payer_id"]
    assert cash and work_queue.listing(Filters(payer=payer))["items"]
    assert all(i["payer_id"] == payer for i in work_queue.listing(Filters(payer=payer))["items"])
    assert work_queue.listing(Filters(business_date=DAY))["total"]["items"] == len(manifest["breaks"])
    assert work_queue.listing(Filters(business_date=DAY + dt.timedelta(days=1)))["total"]["items"] == 0
    assert work_queue.listing(Filters(min_age=1))["total"]["items"] == 0
    by_ref = [i["reference"] for i in work_queue.listing(Filters(sort="reference", descending=False))["items"]]
    assert by_ref == sorted(by_ref)


def test_runs_keep_peoples_decisions(backend):
    manifest = a_reconciled_day()
    fiona = Actor("fiona", frozenset({"finance"}))
    missing = next(b for b in manifest["breaks"] if b["category"] == "payment_without_deposit")
    short = next(b for b in manifest["breaks"] if b["category"] == "deposit_amount_difference")
    items = {(i["category"], i["reference"]): i for i in work_queue.listing(Filters())["items"]}
    still, vanishing = (
        items[(short["category"], short["reference"])],
        items[(missing["category"], missing["reference"])],
    )
    work_queue.act(still["item_key"], "resolve", fiona, resolution_code="WRITTEN_OFF", note="25.00 written off")
    work_queue.act(vanishing["item_key"], "assign", fiona, assignee="fiona")

    # The next day: the missing deposit arrives (that break vanishes), the short one is still short.
    later = DAY + dt.timedelta(days=1)
    payer, trace = missing["reference"].split("|")
    amount = next(
        t["bpr02"]
        for f in manifest["files"]
        if f["type"] == "835"
        for t in f["transactions"]
        if t["payer_id"] == payer and t["trace"] == trace
    )
    bank = get_settings().inbound / "bank"
    (bank / "deposits_20261125.csv").write_text(
        "deposit_date,bank_reference,originator_id,trace_number,amount,deposit_type\n"
        f"2026-11-25,BNKLATE1,{payer},{trace},{amount},ACH\n"
    )
    run_source("bank_deposits", later)
    reconciliation.run(later, "later")
    kept = work_queue.item(still["item_key"])
    assert (kept["status"], kept["resolution_code"], kept["resolved_by"]) == ("resolved", "WRITTEN_OFF", "fiona")
    note = work_queue.history(still["item_key"])[-1]
    assert (note["event"], note["actor"]) == ("still_found", "reconciliation")
    assert "WRITTEN_OFF" in note["note"] and "fiona" in note["note"]
    gone = work_queue.item(vanishing["item_key"])
    assert gone["status"] == "closed" and gone["closed_on"] == later and gone["assignee"] == "fiona"
    assert work_queue.history(vanishing["item_key"])[-1]["event"] == "closed"
    # A replay of the later day adds no second system event; reopening by hand works on a closed item.
    before = len(work_queue.history(still["item_key"]))
    reconciliation.run(later, "replay")
    assert len(work_queue.history(still["item_key"])) == before
    work_queue.act(vanishing["item_key"], "reopen", fiona, note="the deposit was reversed")
    assert work_queue.item(vanishing["item_key"])["status"] == "open"
    with pytest.raises(Exception, match="NOT_ALLOWED"):
        work_queue.act(vanishing["item_key"], "reassign", fiona, owner_team="revenue cycle")


def test_expired_forged_and_cross_site_requests_are_refused(rc_home):
    """What a reviewer tries against the real api-server besides roles and teams: a token past its expiry, one
    signed with another key, one with no signature, garbage; and a cross-site post carrying the UI's cookie."""
    import time

    import httpx
    import jwt

    from tests.airflow_server import JWT_SECRET, token

    with api_server(rc_home) as base:
        good = token(base, "fiona")
        alg = jwt.get_unverified_header(good)["alg"]
        claims = jwt.decode(good, options={"verify_signature": False})
        now = int(time.time())
        # Control: a token this test signs with the server's key is accepted, so each refusal below is for
        # the one thing that differs.
        remade = jwt.encode({**claims, "iat": now, "nbf": now, "exp": now + 600}, JWT_SECRET, algorithm=alg)
        refused = {
            "expired": jwt.encode({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}, JWT_SECRET, alg),
            "another key": jwt.encode({**claims, "exp": now + 600}, "an-attackers-secret-" + "y" * 48, algorithm=alg),
            "no signature": jwt.encode({**claims, "exp": now + 600}, None, algorithm="none"),
            "garbage": "not-a-token",
        }
        key = "no-such-item"
        with httpx.Client(base_url=base, timeout=30) as http:
            ok = http.get("/revcycle/api/me", headers={"Authorization": f"Bearer {remade}"})
            assert ok.status_code == 200 and ok.json()["name"] == "fiona"
            for why, bad in refused.items():
                headers = {"Authorization": f"Bearer {bad}"}
                answer = http.get("/revcycle/api/items", headers=headers)
                assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer"), why
                posted = http.post(f"/revcycle/api/items/{key}/comment", json={"note": "x"}, headers=headers)
                assert posted.status_code == 401, why
            # A cross-site page can make the browser send the UI's cookie with a form or text/plain body (no
            # preflight for either), never with application/json: both are refused before any action.
            cookie = {"_token": good}
            assert http.get("/revcycle/api/me", cookies=cookie).status_code == 200  # the cookie alone signs in
            form = http.post(f"/revcycle/api/items/{key}/comment", data={"note": "x"}, cookies=cookie)
            plain = http.post(
                f"/revcycle/api/items/{key}/comment",
                content=b'{"note": "x"}',
                headers={"Content-Type": "text/plain"},
                cookies=cookie,
            )
            assert form.status_code == plain.status_code == 415
