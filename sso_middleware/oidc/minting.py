"""ID tokens and access tokens, signed with the provider's keys on :func:`sso_middleware.tokens.sign`.

The ID token is what the client verifies the user with (OpenID Connect Core 2): ``iss``,
``sub``, ``aud`` (the client), ``exp``, ``iat``, ``auth_time``, ``azp``, ``at_hash``, the
``nonce`` only when the client sent one, the claims its scopes release, and the ``kid`` of its
key in the header. The access token is self-contained (RFC 9068, ``typ: at+jwt``): the
userinfo endpoint verifies it locally, so no token table exists anywhere.
"""

from __future__ import annotations

import secrets
from typing import Any

from authlib.oidc.core.util import create_half_hash

from ..errors import ConfigurationError
from ..keys import Key, KeySet
from ..tokens import TokenPolicy, Verified, sign, verify
from .codes import Grant

ACCESS_TYP = "at+jwt"


class Minter:
    """Signs the provider's tokens; the newest key of each algorithm signs, every key verifies.

    >>> from sso_middleware.keys import Key, KeySet
    >>> minter = Minter(KeySet([Key.generate("ES256")]), "https://app.acme.com/sso",
    ...                 userinfo="https://app.acme.com/sso/oidc/userinfo")
    >>> sorted(minter.algorithms)
    ['ES256']
    """

    def __init__(self, keys: KeySet, issuer: str, *, userinfo: str, id_token_ttl: int = 300,
                 access_token_ttl: int = 600, leeway: float = 30.0) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = userinfo
        self.id_token_ttl = id_token_ttl
        self.access_token_ttl = access_token_ttl
        self._signing: dict[str, Key] = {}
        for key in keys.keys:  # newest first: the first private key of each algorithm signs it
            if key.private and key.pair:
                self._signing.setdefault(key.algorithm, key)
        if not self._signing:
            raise ConfigurationError("OpenIDProvider: key: pass a private key (PEM or JWK) to sign with.")
        self.policy = TokenPolicy(
            keys, algorithms=frozenset(self._signing), leeway=leeway, max_lifetime=access_token_ttl + leeway,
            issuer=(issuer,), audience=userinfo, typ=ACCESS_TYP, required=("jti", "client_id", "grant"),
            identity=("sub",),
        )

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset(self._signing)

    def key_for(self, algorithm: str) -> Key | None:
        return self._signing.get(algorithm)

    def access_token(self, grant: Grant, now: int) -> str:
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": grant.subject, "aud": self.audience,
            "exp": now + self.access_token_ttl, "iat": now, "jti": secrets.token_urlsafe(16),
            "client_id": grant.client_id, "scope": " ".join(grant.scope), "auth_time": grant.auth_time,
            "grant": grant.id, "userinfo": dict(grant.claims),
        }
        return sign(claims, self._default, typ=ACCESS_TYP)

    def id_token(self, grant: Grant, algorithm: str, now: int, access_token: str) -> str:
        key = self._signing[algorithm]
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": grant.subject, "aud": grant.client_id, "exp": now + self.id_token_ttl,
            "iat": now, "auth_time": grant.auth_time, "azp": grant.client_id,
        }
        if grant.nonce is not None:  # never "nonce": null (strict clients refuse it)
            claims["nonce"] = grant.nonce
        half = create_half_hash(access_token, key.algorithm)
        if half is not None:
            claims["at_hash"] = half.decode("ascii") if isinstance(half, bytes) else str(half)
        claims.update((k, v) for k, v in grant.claims.items() if k not in claims)
        return sign(claims, key, typ="JWT")

    def read_access_token(self, token: str, now: float) -> Verified:
        """The access token's claims, fully checked (raises an ``InvalidToken``)."""
        return verify(token, self.policy, now)

    @property
    def _default(self) -> Key:
        return self._signing.get("RS256") or next(iter(self._signing.values()))


__all__ = ["ACCESS_TYP", "Minter"]
