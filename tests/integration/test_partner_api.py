"""Partners' HTTPS APIs against a local test server with real TLS: OAuth 2.0 client credentials (token cached,
fetched again when it lapses, wrong secret refused), mutual TLS, paging, the partner's rate limit (429 and
Retry-After honoured), retries only where they help, timeouts, refused certificates (expired, unknown CA,
client certificate from the wrong CA), the request log; and remittances taken through the API landing and
posting exactly as the same files from the inbound folder."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import trustme
from sqlalchemy import text

from revcycle.adapters import ledger
from revcycle.adapters.db import engine_for
from revcycle.adapters.partner_api import ApiFolder, PartnerApi, PartnerConfig
from revcycle.errors import RevcycleError
from revcycle.synthetic.day import generate_day
from tests.conftest import reset_caches, use_home
from tests.partner_server import CLIENT_ID, CLIENT_SECRET, Behaviour, partner_server
from tests.pipeline_helpers import run_source

DAY = dt.date(2026, 11, 24)


def oauth(partner, name: str = "clearinghouse", **kw) -> PartnerConfig:
    return PartnerConfig(
        name=name,
        base_url=partner.base_url,
        client_id=CLIENT_ID,
        client_secret=kw.pop("secret", CLIENT_SECRET),
        token_url=f"{partner.base_url}/oauth/token",
        ca_cert=kw.pop("ca_cert", partner.ca_pem),
        backoff_seconds=0.01,
        **kw,
    )


def calls(key_prefix: str = "") -> list[dict]:
    with engine_for("ops").connect() as conn:
        rows = conn.execute(text("select * from ops.api_call order by called_at, attempt")).mappings().all()
    return [dict(r) for r in rows if r["business_key"].startswith(key_prefix)]


def test_oauth_paging_token_cache_and_refresh(rc_home, tmp_path):
    files = {f"era_{n}.835": f"ISA*{n}~".encode() for n in range(5)}
    with partner_server(tmp_path / "tls", Behaviour(files=files, page_size=2, token_lifetime=62)) as partner:
        api = PartnerApi(oauth(partner))
        folder = ApiFolder(api, "/remittances")
        listed = folder.list()
        assert [f.name for f in listed] == sorted(files)
        got = {}
        for f in listed:
            buf = io.BytesIO()
            folder.fetch(f.name, buf)
            got[f.name] = buf.getvalue()
        assert got == files
        assert partner.behaviour.tokens_issued == 1  # fetched once, cached for every call
        # A token within a minute of its end (Authlib's leeway) is fetched again before the next call.
        partner.behaviour.valid_tokens.clear()
        api.client.token["expires_at"] = int(dt.datetime.now().timestamp()) + 30
        assert api.request("GET", "/echo", business_key="refresh").status_code == 200
        assert partner.behaviour.tokens_issued == 2
        # Every call in the request log with its correlation id and business key, no query string.
        log = calls()
        assert [c["business_key"] for c in log[:3]] == [
            "list/remittances-p1",
            "list/remittances-p2",
            "list/remittances-p3",
        ]
        assert all(c["path"] == "/remittances" for c in log[:3]) and all("?" not in c["path"] for c in log)
        sent = {cid for _, _, cid in partner.behaviour.calls}
        assert {c["correlation_id"] for c in log} <= sent
        folder.close()
        wrong = PartnerApi(oauth(partner, name="wrong", secret="nope"))
        with pytest.raises(RevcycleError) as err:
            wrong.request("GET", "/echo", business_key="wrong-secret")
        assert err.value.reason == "API_AUTH"


def test_rate_limit_retry_after_and_retries_only_where_they_help(rc_home, tmp_path):
    b = Behaviour(rate_per_second=1000, retry_after=2)
    with partner_server(tmp_path / "tls", b) as partner:
        pauses: list[float] = []
        api = PartnerApi(oauth(partner, max_attempts=3), sleep=pauses.append)
        b.fail_next["/echo"] = [429]
        assert api.request("GET", "/echo", business_key="limited").status_code == 200
        assert pauses == [2.0]  # the partner's Retry-After, not our backoff
        assert [c["status"] for c in calls("limited")] == [429, 200]
        b.fail_next["/echo"] = [503, 502]
        assert api.request("GET", "/echo", business_key="flaky").status_code == 200
        assert [c["status"] for c in calls("flaky")] == [503, 502, 200]
        # A client error is final: no retry.
        assert api.request("GET", "/bad", business_key="bad").status_code == 400
        assert [c["status"] for c in calls("bad")] == [400]
        # Retryable failures that do not stop: API_UNAVAILABLE after max_attempts.
        b.fail_next["/echo"] = [503, 503, 503]
        with pytest.raises(RevcycleError) as err:
            api.request("GET", "/echo", business_key="down")
        assert err.value.reason == "API_UNAVAILABLE" and len(calls("down")) == 3
        # A slow partner: the timeout ends the call, retried, then given up.
        b.slow_seconds = 1.5
        slow = PartnerApi(oauth(partner, name="slow", timeout=0.5, max_attempts=2), sleep=pauses.append)
        with pytest.raises(RevcycleError) as err:
            slow.request("GET", "/echo", business_key="slow")
        assert err.value.reason == "API_UNAVAILABLE"
        assert [c["error"].endswith("Timeout") for c in calls("slow")] == [True, True]
        b.slow_seconds = 0


def test_the_partner_rate_limit_holds_across_calls(rc_home, tmp_path):
    from revcycle.adapters.partner_api import TokenBucket

    now = [0.0]
    bucket = TokenBucket(rate=2, burst=2, clock=lambda: now[0])
    assert bucket.take() == 0 and bucket.take() == 0  # the burst
    waits = []
    import revcycle.adapters.partner_api as module

    real_sleep = module.time.sleep
    module.time.sleep = lambda s: (waits.append(s), now.__setitem__(0, now[0] + s))
    try:
        assert bucket.take() == pytest.approx(0.5)  # 2 a second: the third waits half a second
        bucket.hold(3)  # a 429 said wait 3 s
        bucket.take()
        assert sum(waits) >= 3.5
    finally:
        module.time.sleep = real_sleep


def test_refused_certificates(rc_home, tmp_path):
    past = dt.datetime(2025, 1, 1)
    with partner_server(tmp_path / "expired", server_not_after=past) as partner:
        with pytest.raises(RevcycleError) as err:
            PartnerApi(oauth(partner)).request("GET", "/echo", business_key="expired")
        assert err.value.reason == "API_TLS" and "expired" in err.value.detail
    with partner_server(tmp_path / "other") as partner:
        stranger = trustme.CA().cert_pem.bytes().decode()
        with pytest.raises(RevcycleError) as err:
            PartnerApi(oauth(partner, ca_cert=stranger)).request("GET", "/echo", business_key="unknown-ca")
        assert err.value.reason == "API_TLS"


def mtls(partner, name: str, cert: str, key: str) -> PartnerConfig:
    return PartnerConfig(
        name=name,
        base_url=partner.base_url,
        auth="mtls",
        ca_cert=partner.ca_pem,
        client_cert=cert,
        client_key=key,
        backoff_seconds=0.01,
    )


def test_mutual_tls_and_certificate_expiry_kpi(rc_home, tmp_path):
    with partner_server(tmp_path / "mtls", require_client_cert=True) as partner:
        soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=10)
        cert, key = partner.client_pair(not_after=soon)
        config = mtls(partner, "payer_mtls", cert, key)
        assert PartnerApi(config).request("GET", "/echo", business_key="mtls").status_code == 200
        # A client certificate from another CA is refused by the partner.
        cert2, key2 = partner.client_pair(ca=trustme.CA())
        other = mtls(partner, "payer_mtls_wrong", cert2, key2)
        with pytest.raises(RevcycleError) as err:
            PartnerApi(other).request("GET", "/echo", business_key="mtls-wrong")
        # Under TLS 1.3 the partner drops the connection after the handshake rather than sending an alert, so
        # the client cannot tell it from a dropped line: it retries, and is never served.
        assert err.value.reason in ("API_TLS", "API_UNAVAILABLE")
        assert calls("mtls-wrong") and all(c["status"] is None for c in calls("mtls-wrong"))
    from revcycle.jobs import kpi

    days = next(k for k in kpi.compute(DAY) if k["kpi"] == "client_cert_days_left")
    assert days["value"] == (soon.date() - DAY).days and "payer_mtls until" in days["detail"]


def test_remittances_through_the_api_post_like_the_files(tmp_path, monkeypatch):
    erp = {}
    for route in ("files", "api"):
        s = use_home(monkeypatch, tmp_path / route, "REVCYCLE_API_SOURCES")
        generate_day(s.inbound, DAY, 80, 17, supply_messages=10)
        if route == "files":
            rows = run_source("remittance", DAY)
        else:
            folder = s.inbound / "remittance"
            files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.835"))}
            for p in folder.glob("*.835"):
                p.unlink()
            with partner_server(tmp_path / "tls", Behaviour(files=files, page_size=2)) as partner:
                monkeypatch.setenv("AIRFLOW_CONN_CLEARINGHOUSE_API", partner.airflow_connection())
                monkeypatch.setenv("REVCYCLE_API_SOURCES", "remittance=clearinghouse_api:/remittances")
                reset_caches()
                rows = run_source("remittance", DAY)
                again = run_source("remittance", DAY)  # the same listing again lands nothing new
                assert again == {} or all(r["state"] == "posted" for r in again.values())
        assert {r["state"] for r in rows.values()} == {"posted"}
        with engine_for("erp").connect() as c:
            erp[route] = {
                t: sorted(map(tuple, c.execute(text(f"select * from erp.{t}")).all()))
                for t in ("cash_receipt", "receipt_application", "journal_line")
            }
        if route == "api":
            names = sorted(r["original_name"] for r in ledger.for_day(DAY))
            assert names == sorted(files)
            fetched = calls("file-")
            # Two runs: the second lists the same files and downloads none of them (ops.listing_seen).
            assert len(fetched) == len(files) and all(c["status"] == 200 for c in fetched)
            assert len(ledger.for_day(DAY)) == len(files)
    assert erp["api"] == erp["files"] and len(erp["files"]["cash_receipt"]) > 0


def test_lineage_names_the_api_as_the_files_source(rc_home, monkeypatch):
    from revcycle.jobs.lineage import inbound_dataset

    monkeypatch.setenv(
        "AIRFLOW_CONN_CLEARINGHOUSE_API", json.dumps({"conn_type": "https", "host": "https://api.clearinghouse.test"})
    )
    monkeypatch.setenv("REVCYCLE_API_SOURCES", "remittance=clearinghouse_api:/remittances")
    reset_caches()
    assert inbound_dataset("remittance", "era_1.835", "remittance") == (
        "https://api.clearinghouse.test",
        "/remittances/era_1.835",
    )
    assert inbound_dataset("bank", "d.csv", "bank_deposits")[0] == "file"
