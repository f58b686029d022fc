"""HTTPS APIs of trading partners (clearinghouses, payers), governed like the SFTP route.

A partner is an Airflow connection (``conn_id``): ``host`` is the base URL; ``login``/``password`` the OAuth 2.0
client id and secret; ``extra`` holds ``auth`` (``oauth2``, ``smart`` or ``mtls``), ``token_url``, ``scope``, ``ca_cert``
(PEM: the partner's CA, verification is never off), ``client_cert``/``client_key`` (PEM, for mutual TLS),
``rate_per_second`` and ``burst`` (the partner's limit), ``timeout``, ``max_attempts``.  Secrets live in the
connection only.

Every call:
- waits for a token from the partner's token bucket (its rate limit, shared by the process's threads);
- has a timeout; is retried with exponential backoff only when retrying can help (connect/read failures,
  429 and 502/503/504), honouring ``Retry-After``; any other answer is final;
- carries ``X-Correlation-ID`` (the business transaction's key and the attempt) and our application identity
  in ``User-Agent``, and is written to ``ops.api_call`` (partner, method, path without query, status,
  attempt, seconds, correlation id, business key; never a payload, never a query string).
OAuth 2.0 client credentials are Authlib's (token fetched, cached and fetched again before it expires), with a
client secret (``oauth2``) or, for SMART Backend Services (``smart``), a JWT assertion signed with the private key
in ``client_key`` (``revcycle.adapters.smart_auth``: ``alg`` RS384 or ES384, ``kid``); mutual
TLS is the ``ssl`` module's with the connection's certificate, whose expiry date is recorded in
``ops.api_certificate`` each time a client is made, so the KPIs warn before it lapses.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from revcycle.adapters.db import engine_for, query
from revcycle.adapters.storage import write_private
from revcycle.errors import RevcycleError

log = logging.getLogger(__name__)
USER_AGENT = "revcycle/1 (hospital revenue-cycle integration)"
RETRYABLE = {429, 502, 503, 504}


@dataclass
class PartnerConfig:
    name: str
    base_url: str
    auth: str = "oauth2"  # oauth2 or mtls
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scope: str | None = None
    ca_cert: str | None = None  # PEM
    client_cert: str | None = None  # PEM
    client_key: str | None = None  # PEM
    rate_per_second: float = 5.0
    burst: int = 5
    timeout: float = 30.0
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_connection(cls, conn_id: str) -> PartnerConfig:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        extra = conn.extra_dejson or {}
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
        base = (
            conn.host if "://" in (conn.host or "") else f"{scheme}://{conn.host}{f':{conn.port}' if conn.port else ''}"
        )
        return cls(
            name=conn_id,
            base_url=base.rstrip("/"),
            auth=extra.get("auth", "oauth2"),
            client_id=conn.login,
            client_secret=conn.password if extra.get("auth") != "smart" else None,
            token_url=extra.get("token_url"),
            scope=extra.get("scope"),
            ca_cert=extra.get("ca_cert"),
            client_cert=extra.get("client_cert"),
            # SMART backend services: the private key is the connection's password (masked like any secret).
            client_key=extra.get("client_key") or (conn.password if extra.get("auth") == "smart" else None),
            rate_per_second=float(extra.get("rate_per_second", 5)),
            burst=int(extra.get("burst", 5)),
            timeout=float(extra.get("timeout", 30)),
            max_attempts=int(extra.get("max_attempts", 4)),
            extra=extra,
        )


class TokenBucket:
    """``rate`` calls a second on average, up to ``burst`` at once; ``take`` blocks until a call may go."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.capacity, self.clock = rate, float(burst), clock
        self.tokens, self.stamp = float(burst), clock()
        self.lock = threading.Lock()

    def take(self) -> float:
        """Wait for a token; return the seconds waited."""
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return waited
                pause = (1 - self.tokens) / self.rate
            time.sleep(pause)
            waited += pause

    def hold(self, seconds: float) -> None:
        """The partner said wait (429 Retry-After): no call goes before then."""
        with self.lock:
            self.tokens = min(self.tokens, 0.0) - seconds * self.rate


_BUCKETS: dict[str, TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(config: PartnerConfig) -> TokenBucket:
    with _BUCKETS_LOCK:
        if config.name not in _BUCKETS:
            _BUCKETS[config.name] = TokenBucket(config.rate_per_second, config.burst)
        return _BUCKETS[config.name]


def retry_after(response: httpx2.Response, default: float) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date), else ``default``."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        when = email.utils.parsedate_to_datetime(value)
        if when is not None:
            return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    return default


class PartnerApi:
    """One partner's HTTPS client (httpx2, which Authlib builds on): authenticated, rate limited, retried where retrying helps, logged."""

    def __init__(self, config: PartnerConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config, self.sleep = config, sleep
        self.bucket = bucket_for(config)
        self.client = self._client()

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.config.ca_cert:
            ctx.load_verify_locations(cadata=self.config.ca_cert)
        if self.config.auth == "mtls":
            if not (self.config.client_cert and self.config.client_key):
                raise RevcycleError("API_CONFIG", f"{self.config.name}: mutual TLS needs client_cert and client_key")
            # The ssl module loads a certificate chain from files only: they exist just while it reads them.
            with tempfile.TemporaryDirectory(prefix="revcycle-tls-") as folder:
                cert = write_private(Path(folder) / "client.pem", self.config.client_cert)
                key = write_private(Path(folder) / "client.key", self.config.client_key)
                ctx.load_cert_chain(cert, key)
            record_certificate(self.config.name, self.config.client_cert)
        return ctx

    def _client(self) -> httpx2.Client:
        common = {
            "base_url": self.config.base_url,
            "verify": self._ssl_context(),
            "timeout": httpx2.Timeout(self.config.timeout),
            "headers": {"User-Agent": USER_AGENT},
        }
        if self.config.auth == "oauth2":
            from authlib.integrations.httpx_client import OAuth2Client

            if not (self.config.client_id and self.config.client_secret and self.config.token_url):
                raise RevcycleError(
                    "API_CONFIG", f"{self.config.name}: OAuth 2.0 needs client id, secret and token_url"
                )
            client = OAuth2Client(
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
                scope=self.config.scope,
                token_endpoint=self.config.token_url,
                grant_type="client_credentials",
                leeway=60,  # a token that lapses within a minute is fetched again first
                **common,
            )
            return client
        if self.config.auth == "smart":
            from authlib.integrations.httpx_client import OAuth2Client

            from revcycle.adapters.smart_auth import SmartBackendAuth, load_private_key

            if not (self.config.client_id and self.config.client_key and self.config.token_url):
                raise RevcycleError(
                    "API_CONFIG", f"{self.config.name}: SMART backend services need client id, client_key and token_url"
                )
            alg = self.config.extra.get("alg", "RS384")
            return OAuth2Client(
                client_id=self.config.client_id,
                client_secret=load_private_key(self.config.client_key, alg, self.config.name),
                scope=self.config.scope or "system/*.read",
                token_endpoint=self.config.token_url,
                token_endpoint_auth_method=SmartBackendAuth(self.config.token_url, alg, self.config.extra.get("kid")),
                grant_type="client_credentials",
                leeway=60,
                **common,
            )
        if self.config.auth == "mtls":
            return httpx2.Client(**common)
        raise RevcycleError(
            "API_CONFIG", f"{self.config.name}: auth must be oauth2, smart or mtls, not {self.config.auth!r}"
        )

    def _ensure_token(self) -> None:
        client = self.client
        if self.config.auth not in ("oauth2", "smart"):
            return
        token = getattr(client, "token", None)
        if not token or token.is_expired(leeway=60):
            from authlib.integrations.base_client.errors import OAuthError

            try:
                client.fetch_token(self.config.token_url, grant_type="client_credentials")
            except OAuthError as exc:
                why = f"{exc.error}: {exc.description}"[:200] if exc.description else exc.error
                raise RevcycleError("API_AUTH", f"{self.config.name}: token refused ({why})") from None

    def request(self, method: str, path: str, *, business_key: str, **kwargs) -> httpx2.Response:
        """One call with the partner's rules; the final answer (2xx, or a non-retryable error) is returned,
        a call that kept failing raises ``API_UNAVAILABLE``."""
        last: str = ""
        given = kwargs.pop("headers", {})
        for attempt in range(1, self.config.max_attempts + 1):
            waited = self.bucket.take()
            correlation = f"{business_key}-{attempt}"
            headers = {**given, "X-Correlation-ID": correlation}
            started = time.monotonic()
            status: int | None = None
            try:
                self._ensure_token()
                response = self.client.request(method, path, headers=headers, **kwargs)
                status = response.status_code
            except httpx2.ConnectError as exc:
                refused = _tls_refusal(exc)
                if refused:
                    last = "TLS"
                    raise RevcycleError("API_TLS", f"{self.config.name}: TLS handshake refused: {refused}") from None
                last, response = type(exc).__name__, None
            except httpx2.TransportError as exc:  # timeouts included
                last, response = type(exc).__name__, None
            finally:
                record_call(
                    partner=self.config.name,
                    method=method,
                    path=path.split("?", 1)[0],
                    status=status,
                    attempt=attempt,
                    seconds=time.monotonic() - started,
                    waited=waited,
                    correlation_id=correlation,
                    business_key=business_key,
                    error=last if status is None else None,
                )
            if response is not None and response.status_code not in RETRYABLE:
                return response
            if response is not None:
                last = f"HTTP {response.status_code}"
            if attempt == self.config.max_attempts:
                break
            pause = self.config.backoff_seconds * 2 ** (attempt - 1)
            if response is not None and response.status_code in (429, 503):
                pause = retry_after(response, pause)
                self.bucket.hold(pause)
            self.sleep(pause)
        raise RevcycleError(
            "API_UNAVAILABLE", f"{self.config.name} {method} {path.split('?', 1)[0]}: {last} after {attempt} attempts"
        )

    def close(self) -> None:
        self.client.close()


def record_call(**call) -> None:
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/api_call_insert",
            {
                **call,
                "seconds": round(call["seconds"], 3),
                "waited": round(call["waited"], 3),
                "called_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            },
        )
    log.info(
        "api %s %s %s -> %s (attempt %s, %s)",
        call["partner"],
        call["method"],
        call["path"],
        call["status"] or call["error"],
        call["attempt"],
        call["correlation_id"],
    )


def record_certificate(partner: str, pem: str) -> dt.datetime:
    """Keep the client certificate's expiry for the KPIs; return it."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem.encode())
    not_after = cert.not_valid_after_utc.replace(tzinfo=None)
    with engine_for("ops").begin() as conn:
        query(
            conn,
            "ops/api_certificate_upsert",
            {
                "partner": partner,
                "subject": cert.subject.rfc4514_string()[:200],
                "not_after": not_after,
                "checked_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            },
        )
    days = (not_after - dt.datetime.now(dt.UTC).replace(tzinfo=None)).days
    if days < 30:
        log.warning("client certificate for %s expires in %d days (%s)", partner, days, not_after.date())
    return not_after


def _tls_refusal(exc: BaseException) -> str | None:
    """Why a TLS handshake failed (certificate expired, unknown CA, our certificate refused), or None when the
    connection failed for another reason (a retry may help there, not here)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or "certificate verify failed"
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)[:120]
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else None


class ApiFolder:
    """A partner's paged file listing as a landing transport (``list``/``fetch``/``describe``): what arrives
    over the API lands in the raw zone and goes through the same steps as a file from SFTP.

    ``GET <list_path>?page_token=`` answers ``{"items": [{"id", "name", "size", "created"}], "next_page_token"}``;
    ``GET <list_path>/<id>/content`` the file's bytes.  Each call's business key names the file (or the
    listing), so the request log ties every call to the file it brought in.  With a ``source``, an item landed
    before (same id and size, ``ops.listing_seen``, written by ``commit`` once the landing step has landed
    the run's files) is not listed again, so it is not downloaded again."""

    def __init__(self, api: PartnerApi, list_path: str, source: str | None = None) -> None:
        self.api, self.list_path, self.source = api, list_path.rstrip("/"), source
        self.ids: dict[str, str] = {}
        self.fetched: list[tuple[str, int, str]] = []  # (id, size, sha256) downloaded this run

    def _seen(self) -> set[tuple[str, int]]:
        """The (id, size) of every item this source landed before (``ops.listing_seen``): not downloaded again."""
        if self.source is None:
            return set()
        with engine_for("ops").connect() as conn:
            return {(r[0], int(r[1])) for r in query(conn, "ops/listing_seen", {"source": self.source}).all()}

    def commit(self) -> None:
        """What this run downloaded is landed: remember it, so the next listing skips it."""
        if self.source is None or not self.fetched:
            return
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with engine_for("ops").begin() as conn:
            for item_id, size, sha in self.fetched:
                query(
                    conn,
                    "ops/listing_seen_insert",
                    {"source": self.source, "item_id": item_id, "size_bytes": size, "sha256": sha, "landed_at": now},
                )

    def list(self):
        from revcycle.adapters.landing import RemoteFile, check_name

        out, token, page = [], None, 0
        seen = self._seen()
        while True:
            page += 1
            params = {"page_token": token} if token else {}
            answer = self.api.request(
                "GET", self.list_path, params=params, business_key=f"list{self.list_path}-p{page}"
            )
            if answer.status_code != 200:
                raise RevcycleError("API_REFUSED", f"{self.api.config.name} listing: HTTP {answer.status_code}")
            body = answer.json()
            for item in body.get("items", []):
                name = str(item["name"])
                check_name(name)
                created = dt.datetime.fromisoformat(
                    str(item.get("created", "1970-01-01T00:00:00Z")).replace("Z", "+00:00")
                )
                if (str(item["id"]), int(item["size"])) in seen:
                    continue  # landed on an earlier run (a changed size is a new version: fetched again)
                self.ids[name] = str(item["id"])
                out.append(RemoteFile(name, int(item["size"]), created.timestamp()))
            token = body.get("next_page_token")
            if not token:
                return sorted(out, key=lambda f: f.name)

    def fetch(self, name: str, out) -> None:
        rid = self.ids.get(name)
        if rid is None:
            raise RevcycleError("API_REFUSED", f"{name}: not in the partner's listing")
        answer = self.api.request("GET", f"{self.list_path}/{rid}/content", business_key=f"file-{rid}")
        if answer.status_code != 200:
            raise RevcycleError("API_REFUSED", f"{self.api.config.name} download of {rid}: HTTP {answer.status_code}")
        out.write(answer.content)
        import hashlib

        self.fetched.append((rid, len(answer.content), hashlib.sha256(answer.content).hexdigest()))

    def describe(self) -> str:
        return f"{self.api.config.base_url}{self.list_path}"

    def close(self) -> None:
        self.api.close()


# -- CAQH CORE connectivity: X12 over HTTP MIME multipart -------------------------------------------------
CORE_RULE_VERSION = "2.2.0"


@dataclass(frozen=True)
class CoreEnvelope:
    """The CORE Connectivity Rule's envelope fields around one X12 payload."""

    payload_type: str  # e.g. X12_276_Request_005010X212
    processing_mode: str  # RealTime or Batch
    payload_id: str  # a UUID; the partner treats a repeat as the same request (idempotency key)
    sender_id: str
    receiver_id: str
    timestamp: str  # ISO 8601 with zone, e.g. 2026-11-24T07:00:00Z

    def fields(self, payload: bytes) -> dict[str, str]:
        import hashlib

        return {
            "PayloadType": self.payload_type,
            "ProcessingMode": self.processing_mode,
            "PayloadID": self.payload_id,
            "PayloadLength": str(len(payload)),
            "TimeStamp": self.timestamp,
            "SenderID": self.sender_id,
            "ReceiverID": self.receiver_id,
            "CORERuleVersion": CORE_RULE_VERSION,
            "Checksum": hashlib.sha1(payload, usedforsecurity=False).hexdigest(),  # the rule's checksum is SHA-1
        }


def multipart_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    """The named parts of a multipart/form-data body (a CORE response), parsed by the standard library."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise RevcycleError("CORE_ENVELOPE", f"the answer is {content_type.split(';')[0]}, not multipart")
    out = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            out[str(name)] = part.get_payload(decode=True) or b""
    return out


def core_exchange(api: PartnerApi, path: str, envelope: CoreEnvelope, payload: bytes) -> tuple[dict[str, str], bytes]:
    """Send one X12 payload in a CORE envelope; return the answer's envelope fields and its payload.  An answer
    whose PayloadID is not ours, whose ErrorCode is not Success, or whose checksum does not match is refused."""
    import hashlib

    fields = envelope.fields(payload)
    answer = api.request(
        "POST",
        path,
        business_key=f"core-{envelope.payload_id}",
        files={**{k: (None, v) for k, v in fields.items()}, "Payload": (None, payload)},
    )
    if answer.status_code != 200:
        raise RevcycleError("API_REFUSED", f"{api.config.name} CORE {envelope.payload_type}: HTTP {answer.status_code}")
    parts = multipart_fields(answer.headers.get("content-type", ""), answer.content)
    meta = {k: v.decode("utf-8", "replace") for k, v in parts.items() if k != "Payload"}
    body = parts.get("Payload", b"")
    if meta.get("PayloadID") != envelope.payload_id:
        raise RevcycleError("CORE_ENVELOPE", "the answer's PayloadID is not the request's")
    if meta.get("ErrorCode", "Success") != "Success":
        raise RevcycleError(
            "CORE_ENVELOPE", f"the partner answered {meta.get('ErrorCode')}: {meta.get('ErrorMessage', '')[:200]}"
        )
    if meta.get("Checksum") and meta["Checksum"].lower() != hashlib.sha1(body, usedforsecurity=False).hexdigest():
        raise RevcycleError("CORE_ENVELOPE", "the answer's payload does not match its checksum")
    return meta, body
