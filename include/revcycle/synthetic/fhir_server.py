"""A payer's FHIR R4 Bulk Data server for the synthetic day and the tests: real HTTPS on loopback, a SMART
Backend Services token endpoint and the ``$export`` flow.

- TLS: a certificate authority made for this run (``cryptography``) signs the server's certificate; the client
  is given that CA, so verification stays on.
- ``POST /auth/token``: ``client_credentials`` with a JWT client assertion, checked as a real authorisation
  server checks it: the signature against the registered public key (RS384 or ES384), ``iss`` = ``sub`` = the
  client id, ``aud`` = this token URL, ``exp`` in the future and at most five minutes out, a ``jti`` never seen
  before.  Refusals are ``invalid_client`` (401) with the reason in ``error_description``.
- ``GET /$export`` (``Prefer: respond-async``; ``_type``, ``_since``): 202 with the status URL.  The export holds
  the store's resources (``<store>/**/<Type>.ndjson``) last updated after ``_since`` and not after the kick-off's
  ``transactionTime`` (a file's modification time is its resources' lastUpdated).
- ``GET /jobs/<id>``: 202 with ``Retry-After`` and ``X-Progress`` for the first polls, then the manifest;
  ``DELETE /jobs/<id>`` ends the job.  ``GET /files/<id>/<n>`` downloads an output (bearer token required).

``Behaviour`` orders failures for the tests: statuses answered first on a path (429/503 with Retry-After), a
failed job, a download that fails midway, OperationOutcome error outputs.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PAYER_CLIENT_ID = "revcycle-hospital-bulk"
TYPES = ("PaymentReconciliation", "ExplanationOfBenefit", "ClaimResponse", "ChargeItem", "SupplyDelivery", "Device")
MAX_ASSERTION_SECONDS = 300
CLOCK_SKEW = 10


@dataclass
class Behaviour:
    polls_before_ready: int = 1
    retry_after: int = 1
    token_lifetime: int = 300
    requires_access_token: bool = True
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path prefix -> statuses to answer first
    fail_job: bool = False
    fail_download: set[int] = field(default_factory=set)  # output numbers that answer 500
    error_outcomes: int = 0  # OperationOutcome lines in an error output
    tokens_issued: int = 0
    refusals: list[str] = field(default_factory=list)  # the token endpoint's error descriptions
    kickoffs: list[dict] = field(default_factory=list)  # the parameters of each kick-off
    deleted: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    downloads_without_token: int = 0


@dataclass
class Job:
    transaction_time: str
    outputs: list[tuple[str, bytes]]
    polls: int = 0


@dataclass
class FhirServer:
    base_url: str
    ca_pem: str
    behaviour: Behaviour

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/token"

    def connection(self, private_key_pem: str, alg: str, client_id: str = PAYER_CLIENT_ID, kid: str = "k1") -> str:
        """This server as an ``AIRFLOW_CONN_*`` JSON value: SMART backend services, its CA pinned, our key."""
        import json

        return json.dumps(
            {
                "conn_type": "https",
                "host": self.base_url,
                "login": client_id,
                "password": private_key_pem,
                "extra": {"auth": "smart", "token_url": self.token_url, "alg": alg, "kid": kid, "ca_cert": self.ca_pem},
            }
        )


def new_private_key(alg: str = "ES384") -> str:
    """A PEM private key for the client (ES384: P-384; RS384: RSA 2048)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = ec.generate_private_key(ec.SECP384R1()) if alg == "ES384" else rsa.generate_private_key(65537, 2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_of(private_key_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key_pem.encode(), None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _tls(folder: Path) -> tuple[Path, Path, str]:
    """A CA of this run and a loopback certificate it signed: (certificate chain file, key file, CA PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "revcycle synthetic payer CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem).decode()
    cert, key = folder / "server.pem", folder / "server.key"
    cert.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key.touch(mode=0o600)
    key.write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, key, ca_pem


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _app(store: Path, public_key_pem: str, client_id: str, b: Behaviour, base: list[str]):
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, RSAKey
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    key = ECKey.import_key(public_key_pem) if "EC" in _key_kind(public_key_pem) else RSAKey.import_key(public_key_pem)
    seen_jti: set[str] = set()
    tokens: dict[str, float] = {}
    jobs: dict[str, Job] = {}

    def outcome(status: int, code: str, text: str, headers: dict | None = None) -> Response:
        body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
        return JSONResponse(body, status_code=status, headers=headers, media_type="application/fhir+json")

    def gate(request: Request) -> Response | None:
        b.calls.append((request.method, request.url.path))
        for prefix, queued in b.fail_next.items():
            if request.url.path.startswith(prefix) and queued:
                status = queued.pop(0)
                return outcome(status, "transient", "try later", {"Retry-After": str(b.retry_after)})
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if tokens.get(token, 0) <= time.monotonic():
            return outcome(401, "login", "a valid bearer token is required")
        return None

    def refuse(why: str) -> Response:
        b.refusals.append(why)
        return JSONResponse({"error": "invalid_client", "error_description": why}, status_code=401)

    async def token(request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return refuse("a JWT client assertion is required")
        try:
            decoded = jwt.decode(str(form.get("client_assertion", "")), key, algorithms=["RS384", "ES384"])
        except (JoseError, ValueError):
            return refuse("the assertion's signature does not verify with the registered key")
        claims, now = decoded.claims, time.time()
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return refuse("iss and sub must be the registered client id")
        if claims.get("aud") != f"{base[0]}/auth/token":
            return refuse("aud is not this token endpoint")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now - CLOCK_SKEW:
            return refuse("the assertion has expired")
        if exp > now + MAX_ASSERTION_SECONDS + CLOCK_SKEW:
            return refuse("exp is more than five minutes away")
        jti = claims.get("jti")
        if not jti or jti in seen_jti:
            return refuse("jti was used before (a replayed assertion)")
        seen_jti.add(jti)
        access = secrets.token_urlsafe(24)
        tokens[access] = time.monotonic() + b.token_lifetime
        b.tokens_issued += 1
        return JSONResponse(
            {"access_token": access, "token_type": "bearer", "expires_in": b.token_lifetime, "scope": "system/*.read"}
        )

    def kickoff(request: Request) -> Response:
        if refused := gate(request):
            return refused
        if request.headers.get("prefer", "") != "respond-async":
            return outcome(400, "required", "Prefer: respond-async is required")
        types = [t for t in request.query_params.get("_type", ",".join(TYPES)).split(",") if t]
        if unknown := [t for t in types if t not in TYPES]:
            return outcome(400, "not-supported", f"unsupported _type {','.join(unknown)}")
        since_text = request.query_params.get("_since")
        try:
            since = dt.datetime.fromisoformat(since_text).timestamp() if since_text else None
        except ValueError:
            return outcome(400, "invalid", "_since is not an instant")
        moment = dt.datetime.now(dt.UTC)
        b.kickoffs.append({"_type": types, "_since": since_text})
        outputs = []
        for rtype in types:
            parts = [
                p.read_bytes()
                for p in sorted(store.glob(f"**/{rtype}.ndjson"))
                if (since is None or p.stat().st_mtime > since) and p.stat().st_mtime <= moment.timestamp()
            ]
            data = b"".join(parts)
            if data:
                outputs.append((rtype, data))
        job_id = secrets.token_hex(8)
        jobs[job_id] = Job(_instant(moment), outputs)
        return Response(status_code=202, headers={"Content-Location": f"{base[0]}/jobs/{job_id}"})

    def status(request: Request) -> Response:
        if refused := gate(request):
            return refused
        job = jobs.get(request.path_params["job"])
        if job is None:
            return outcome(404, "not-found", "no such job")
        if request.method == "DELETE":
            del jobs[request.path_params["job"]]
            b.deleted.append(request.path_params["job"])
            return Response(status_code=202)
        if b.fail_job:
            return outcome(500, "exception", "the export failed")
        job.polls += 1
        if job.polls <= b.polls_before_ready:
            done = int(100 * job.polls / (b.polls_before_ready + 1))
            return Response(status_code=202, headers={"Retry-After": str(b.retry_after), "X-Progress": f"{done}% done"})
        url = f"{base[0]}/files/{request.path_params['job']}"
        manifest = {
            "transactionTime": job.transaction_time,
            "request": f"{base[0]}/$export",
            "requiresAccessToken": b.requires_access_token,
            "output": [
                {"type": rtype, "url": f"{url}/{n}", "count": data.count(b"\n")}
                for n, (rtype, data) in enumerate(job.outputs, start=1)
            ],
            "error": [{"type": "OperationOutcome", "url": f"{url}/error-1"}] if b.error_outcomes else [],
        }
        return JSONResponse(manifest)

    def download(request: Request) -> Response:
        if b.requires_access_token or request.path_params["n"].startswith("error"):
            if refused := gate(request):
                return refused
        else:
            b.calls.append((request.method, request.url.path))
            b.downloads_without_token += "authorization" not in request.headers
        job = jobs.get(request.path_params["job"])
        if job is None:
            return outcome(404, "not-found", "no such job")
        n = request.path_params["n"]
        if n.startswith("error-"):
            line = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing"}]}\n'
            return Response(line * b.error_outcomes, media_type="application/fhir+ndjson")
        number = int(n)
        if number in b.fail_download:
            return outcome(500, "exception", "the file is not available")
        return Response(job.outputs[number - 1][1], media_type="application/fhir+ndjson")

    return Starlette(
        routes=[
            Route("/auth/token", token, methods=["POST"]),
            Route("/$export", kickoff, methods=["GET"]),
            Route("/jobs/{job}", status, methods=["GET", "DELETE"]),
            Route("/files/{job}/{n}", download, methods=["GET"]),
        ]
    )


def _key_kind(pem: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return "EC" if isinstance(serialization.load_pem_public_key(pem.encode()), ec.EllipticCurvePublicKey) else "RSA"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fhir_server(
    store: Path,
    public_key_pem: str,
    tls_dir: Path,
    behaviour: Behaviour | None = None,
    client_id: str = PAYER_CLIENT_ID,
) -> Iterator[FhirServer]:
    """Serve ``store`` on a free loopback port (a thread of this process) until the block ends."""
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert, key, ca_pem = _tls(tls_dir)
    b = behaviour or Behaviour()
    port = free_port()
    base = [f"https://127.0.0.1:{port}"]
    with serving(_app(store, public_key_pem, client_id, b, base), port, cert, key, "the synthetic FHIR server"):
        yield FhirServer(base[0], ca_pem, b)


@contextmanager
def serving(app, port: int, cert: Path, key: Path, what: str, **tls_options) -> Iterator[None]:
    """An ASGI app served over HTTPS by uvicorn on a loopback port, in a thread, until the block ends."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        **tls_options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=what)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
