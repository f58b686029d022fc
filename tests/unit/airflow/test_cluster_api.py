"""The cluster's REST calls ride through the api-server or its database restarting (found by the chaos run:
a PostgreSQL restart made the api-server answer 500 once, and run-day --on cluster gave the day up)."""

from __future__ import annotations

import json
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from revcycle.airflow import cluster


class Flaky(BaseHTTPRequestHandler):
    answers: list[int] = []

    def _answer(self) -> None:
        code = self.answers.pop(0) if self.answers else 200
        body = json.dumps({"state": "success"} if code == 200 else {"detail": "x"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"api_url": f"http://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()


def test_a_call_waits_out_server_errors(api, monkeypatch):
    monkeypatch.setattr(cluster.time, "sleep", lambda s: None)
    Flaky.answers = [500, 503, 502]
    assert cluster._request(api, "GET", "/api/v2/dags/x/dagRuns/y")["state"] == "success"
    assert Flaky.answers == []


def test_patience_has_an_end_and_client_errors_are_not_retried(api, monkeypatch):
    monkeypatch.setattr(cluster.time, "sleep", lambda s: None)
    Flaky.answers = [500] * 3
    with pytest.raises(urllib.error.HTTPError):
        cluster._request(api, "GET", "/x", patience=0)
    Flaky.answers = [404, 200]
    with pytest.raises(urllib.error.HTTPError) as refused:
        cluster._request(api, "GET", "/x")
    assert refused.value.code == 404 and Flaky.answers == [200]


def test_a_trigger_whose_answer_was_lost_finds_its_run(api, monkeypatch):
    """The PATCH goes through; the POST's first try created the run but its answer was lost (a 502 here): the
    second try is told 409, the run exists, and the trigger carries on."""
    import datetime as dt

    monkeypatch.setattr(cluster.time, "sleep", lambda s: None)
    Flaky.answers = [200, 502, 409]
    run_id = cluster.trigger(api, "token", "remittance", dt.date(2026, 11, 24), "t")
    assert run_id == "revcycle__2026-11-24__t" and Flaky.answers == []
