"""PHI handling: tokenise identifiers that finance needs to join on, drop the rest.

Patient and insured member ids are replaced by a keyed HMAC-SHA256 token
(stable across runs, so replays give the same rows); names and birth dates are
never copied out of the source file at all.  The key comes from the
environment (``REVCYCLE_TOKEN_KEY``); without it, a random key is created once
in ``$REVCYCLE_HOME/secrets/token.key`` (mode 0600) for the embedded default, atomically, so processes
that start together on a fresh home all use the same key.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from revcycle.domain.first_use import create_once
from revcycle.errors import RevcycleError
from revcycle.settings import get_settings, token_key

# A key shorter than this is refused: HMAC is only as strong as its key, and an empty or cut-short key file
# (a write that never finished) must stop the run rather than make tokens that join with nothing.
MIN_KEY_CHARS = 16


@lru_cache(maxsize=1)
def _token_key() -> bytes:
    """The key, from ``REVCYCLE_TOKEN_KEY`` or else ``$REVCYCLE_HOME/secrets/token.key``, created once by
    whichever process needs it first (``first_use.create_once``: every racing process gets the same key).
    An error is not cached, so nothing ever tokenises with a key it refused."""
    env = token_key()
    if env:
        if problem := _key_problem(env.encode()):
            raise RevcycleError("BAD_SECRET", f"REVCYCLE_TOKEN_KEY is unusable ({problem})")
        return env.encode()
    path = get_settings().home / "secrets" / "token.key"
    return create_once(path, lambda: secrets.token_hex(32).encode(), _key_problem).strip()


def _key_problem(data: bytes) -> str | None:
    key = data.strip()
    if not key:
        return "empty"
    if len(key) < MIN_KEY_CHARS:
        return f"{len(key)} characters, at least {MIN_KEY_CHARS} needed"
    return None


def tokenise(value: str | None) -> str | None:
    """Keyed token of an identifier (member id, MRN); None stays None.  HMAC-SHA256 (``_pads``)."""
    if not value:
        return None
    inner, outer = _pads(_token_key())
    h = inner.copy()
    h.update(value.encode())
    o = outer.copy()
    o.update(h.digest())
    return o.hexdigest()[:32]


def reset_token_key() -> None:
    _token_key.cache_clear()


def tokenise_all(values: list[str | None]) -> list[str | None]:
    """``tokenise`` of each value (columnar mappers), in one loop."""
    if not any(values):
        return [None] * len(values)  # no key read (nor created) for nothing to tokenise
    inner, outer = _pads(_token_key())
    tokens: list[str | None] = []
    for value in values:
        if not value:
            tokens.append(None)
            continue
        h = inner.copy()
        h.update(value.encode())
        o = outer.copy()
        o.update(h.digest())
        tokens.append(o.hexdigest()[:32])
    return tokens


_BLOCK = 64  # SHA-256's block size


@lru_cache(maxsize=2)
def _pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256 written out (RFC 2104): the key's two padded blocks hashed once; each token continues a
    copy of them, half the cost of ``hmac.digest`` (``test_tokens_are_the_hmac_of_each_member_id``)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))
