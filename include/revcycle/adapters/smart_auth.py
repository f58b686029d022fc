"""SMART Backend Services client authentication (the FHIR Bulk Data route's authorisation).

The token request is OAuth 2.0 ``client_credentials`` with ``client_assertion_type=urn:ietf:params:oauth:
client-assertion-type:jwt-bearer`` and a JWT assertion signed with our private key (RS384 or ES384): issuer
and subject our client id, audience the token URL, a fresh ``jti`` each time and an ``exp`` five minutes out,
as the SMART App Launch guide's backend-services profile requires.  Authlib's ``PrivateKeyJWT`` builds and
sends it; this subclass fixes the two claims the profile constrains (Authlib's default lifetime is an hour,
and its ``claims`` argument would keep one ``jti`` for every request).
"""

from __future__ import annotations

import secrets

from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc.jwk import ECKey, RSAKey

from revcycle.errors import RevcycleError

ALGORITHMS = {"RS384": RSAKey, "ES384": ECKey}
ASSERTION_SECONDS = 300


def load_private_key(pem: str, alg: str, partner: str) -> RSAKey | ECKey:
    """The connection's private key for ``alg``; a key of another kind or no key at all is a configuration error."""
    kind = ALGORITHMS.get(alg)
    if kind is None:
        raise RevcycleError("API_CONFIG", f"{partner}: alg must be one of {', '.join(ALGORITHMS)}, not {alg!r}")
    try:
        return kind.import_key(pem)
    except (ValueError, TypeError):
        raise RevcycleError("API_CONFIG", f"{partner}: client_key is not a {alg} private key (PEM)") from None


class SmartBackendAuth(PrivateKeyJWT):
    name = "private_key_jwt"

    def __init__(self, token_endpoint: str, alg: str, kid: str | None = None) -> None:
        super().__init__(token_endpoint, headers={"typ": "JWT", **({"kid": kid} if kid else {})}, alg=alg)

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            claims={"jti": secrets.token_urlsafe(24)},  # a nonce, unique per assertion (the server refuses a replay)
            header=dict(self.headers),
            expires_in=ASSERTION_SECONDS,
        )
