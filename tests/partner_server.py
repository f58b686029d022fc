"""A clearinghouse's HTTPS API for tests: real TLS (a test CA from trustme, optionally a client-certificate
requirement), a real OAuth 2.0 token endpoint checking client credentials, a paged remittance listing with
downloads, a per-client rate limit answering 429 with Retry-After, and failures to order (503, slow answers).
Served by uvicorn on a free loopback port in a thread."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revcycle.synthetic.fhir_server import free_port, serving

CLIENT_ID, CLIENT_SECRET = "revcycle-hospital", "s3cret-for-tests"


@dataclass
class Behaviour:
    files: dict[str, bytes] = field(default_factory=dict)  # name -> bytes, listed in name order
    page_size: int = 2
    token_lifetime: int = 3600
    rate_per_second: float = 1000.0  # the server's own limit; above it: 429 Retry-After
    retry_after: int = 1
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer first
    slow_seconds: float = 0.0
    tokens_issued: int = 0
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, correlation id)
    valid_tokens: dict[str, float] = field(default_factory=dict)
    core_answers: dict[str, bytes] = field(default_factory=dict)  # ReceiverID -> the 277 it answers with
    core_requests: list[dict] = field(default_factory=list)  # the envelopes received
    core_sent: dict[str, bytes] = field(default_factory=dict)  # PayloadID -> answer (a repeat gets the same)


def _app(b: Behaviour, require_client_cert: bool) -> Starlette:
    stamps: list[float] = []

    def authorised(request: Request) -> bool:
        if require_client_cert:
            return True  # the TLS layer refused anyone without a certificate from our CA
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        return b.valid_tokens.get(token, 0) > time.monotonic()

    def gate(request: Request) -> Response | None:
        b.calls.append((request.method, request.url.path, request.headers.get("x-correlation-id")))
        queued = b.fail_next.get(request.url.path)
        if queued:
            return Response(status_code=queued.pop(0), headers={"Retry-After": str(b.retry_after)})
        now = time.monotonic()
        stamps[:] = [t for t in stamps if now - t < 1.0]
        if len(stamps) >= b.rate_per_second:
            return JSONResponse({"error": "rate limited"}, status_code=429, headers={"Retry-After": str(b.retry_after)})
        stamps.append(now)
        if not authorised(request):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        if b.slow_seconds:
            time.sleep(b.slow_seconds)
        return None

    async def token(request: Request) -> Response:
        form = await request.form()
        auth = request.headers.get("authorization", "")
        cid, secret = form.get("client_id"), form.get("client_secret")
        if auth.lower().startswith("basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if (cid, secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = secrets.token_urlsafe(24)
        b.valid_tokens[issued] = time.monotonic() + b.token_lifetime
        b.tokens_issued += 1
        return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": b.token_lifetime})

    async def listing(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        names = sorted(b.files)
        start = int(request.query_params.get("page_token") or 0)
        page = names[start : start + b.page_size]
        nxt = start + b.page_size if start + b.page_size < len(names) else None
        return JSONResponse(
            {
                "items": [
                    {
                        "id": f"rm-{names.index(n):04d}",
                        "name": n,
                        "size": len(b.files[n]),
                        "created": "2026-11-24T06:00:00Z",
                    }
                    for n in page
                ],
                "next_page_token": None if nxt is None else str(nxt),
            }
        )

    async def content(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        index = int(request.path_params["rid"].removeprefix("rm-"))
        names = sorted(b.files)
        if index >= len(names):
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(b.files[names[index]], media_type="application/edi-x12")

    async def core(request: Request) -> Response:
        """CAQH CORE real-time: a multipart envelope in, the 277 for the request's receiver out."""
        import hashlib
        import uuid

        if (refused := gate(request)) is not None:
            return refused
        form = await request.form()
        fields = {k: (v if isinstance(v, str) else (await v.read()).decode()) for k, v in form.multi_items()}
        payload = fields.pop("Payload", "").encode()
        b.core_requests.append(fields)
        problems = []
        if fields.get("PayloadType") != "X12_276_Request_005010X212" or fields.get("ProcessingMode") != "RealTime":
            problems.append("PayloadType/ProcessingMode")
        if fields.get("Checksum") != hashlib.sha1(payload).hexdigest() or fields.get("PayloadLength") != str(
            len(payload)
        ):
            problems.append("Checksum/PayloadLength")
        uuid.UUID(fields.get("PayloadID", ""))
        pid = fields["PayloadID"]
        answer = b.core_sent.setdefault(pid, b.core_answers.get(fields.get("ReceiverID", ""), b""))
        reply = {
            "PayloadType": "X12_277_Response_005010X212",
            "ProcessingMode": "RealTime",
            "PayloadID": pid,
            "TimeStamp": "2026-11-24T07:00:01Z",
            "SenderID": fields.get("ReceiverID", ""),
            "ReceiverID": fields.get("SenderID", ""),
            "CORERuleVersion": "2.2.0",
            "ErrorCode": "Success" if not problems and answer else "PayloadTypeNotSupported",
            "ErrorMessage": "; ".join(problems) or ("" if answer else "no answer for this receiver"),
            "Checksum": hashlib.sha1(answer).hexdigest(),
        }
        boundary = "revcycle-test-boundary"
        body = (
            b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
                + (v if isinstance(v, bytes) else v.encode())
                + b"\r\n"
                for k, v in [*reply.items(), ("Payload", answer)]
            )
            + f"--{boundary}--\r\n".encode()
        )
        return Response(body, media_type=f"multipart/form-data; boundary={boundary}")

    async def echo(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        return JSONResponse({"ok": True})

    async def bad(request: Request) -> Response:
        gate(request)
        return JSONResponse({"error": "bad request"}, status_code=400)

    return Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route("/remittances", listing),
            Route("/remittances/{rid}/content", content),
            Route("/core/realtime", core, methods=["POST"]),
            Route("/echo", echo),
            Route("/bad", bad),
        ]
    )


@dataclass
class Partner:
    base_url: str
    ca: trustme.CA
    behaviour: Behaviour
    client_ca: trustme.CA | None = None

    @property
    def ca_pem(self) -> str:
        return self.ca.cert_pem.bytes().decode()

    def airflow_connection(self) -> str:
        """This partner as an ``AIRFLOW_CONN_*`` JSON value: OAuth client credentials, its CA pinned."""
        import json

        return json.dumps(
            {
                "conn_type": "https",
                "host": self.base_url,
                "login": CLIENT_ID,
                "password": CLIENT_SECRET,
                "extra": {"token_url": f"{self.base_url}/oauth/token", "ca_cert": self.ca_pem},
            }
        )

    def client_pair(self, ca: trustme.CA | None = None, not_after: dt.datetime | None = None) -> tuple[str, str]:
        """A client certificate and key (PEM) issued by the partner's client CA (or another CA)."""
        leaf = (ca or self.client_ca).issue_cert("revcycle-hospital@example.test", not_after=not_after)
        return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode()


@contextmanager
def partner_server(
    tmp: Path,
    behaviour: Behaviour | None = None,
    *,
    require_client_cert: bool = False,
    server_not_after: dt.datetime | None = None,
) -> Iterator[Partner]:
    ca = trustme.CA()
    client_ca = trustme.CA() if require_client_cert else None
    not_before = None
    if server_not_after is not None and server_not_after < dt.datetime.now(dt.UTC).replace(tzinfo=None):
        not_before = server_not_after - dt.timedelta(days=30)
    leaf = ca.issue_cert("127.0.0.1", "localhost", not_before=not_before, not_after=server_not_after)
    tmp.mkdir(parents=True, exist_ok=True)
    cert, key = tmp / "server.pem", tmp / "server.key"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    options = {}
    if client_ca is not None:
        client_ca.cert_pem.write_to_path(str(tmp / "client-ca.pem"))
        options = {"ssl_ca_certs": str(tmp / "client-ca.pem"), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    b = behaviour or Behaviour()
    port = free_port()
    with serving(_app(b, require_client_cert), port, cert, key, "the partner test server", **options):
        yield Partner(f"https://127.0.0.1:{port}", ca, b, client_ca)
