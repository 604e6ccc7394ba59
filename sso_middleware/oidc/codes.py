"""Authorization codes: sealed (AES-GCM), bound to what they were issued for, used once.

A code carries its whole grant (client, ``redirect_uri``, PKCE challenge, ``nonce``, user
claims, ``auth_time``, expiry), encrypted and authenticated with a key derived from the
provider's signing keys, so every process of the app reads the codes every other one
issued, and nothing is stored when one is issued. What makes it one-time is the replay
store: the token endpoint claims the code's id there (atomically, across processes with
Redis) before it answers, exactly as the verifier claims a token's ``jti``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..base64url import encode as b64encode
from ..keys import KeySet
from ..tokens import json_value

MAX_CODE_LENGTH = 8192
_VERSION = b"\x01"
_NONCE = 12


class InvalidCode(Exception):
    """Raised when a code cannot be opened: tampered, from another provider, or expired."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What a code was issued for; the token endpoint checks the request against it."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    claims: Mapping[str, Any]
    auth_time: int
    expires: float
    nonce: str | None = None
    challenge: str | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


class Codes:
    """Seals grants into codes and opens them (newest key seals, every key opens: rotation).

    >>> from sso_middleware.keys import Key, KeySet
    >>> codes = Codes(KeySet([Key.generate("ES256")]), "https://app.acme.com/sso")
    >>> grant = Grant("grafana", "https://g.acme.com/cb", ("openid",), {"sub": "7"}, 100, 160.0)
    >>> codes.open(codes.seal(grant), now=120.0) == grant
    True
    """

    def __init__(self, keys: KeySet, issuer: str) -> None:
        self._aad = b"sso_middleware/oidc code\x1f" + issuer.encode("utf-8")
        self._ciphers = [AESGCM(key.derive("oidc authorization code")) for key in keys.keys if key.private]

    def seal(self, grant: Grant) -> str:
        nonce = os.urandom(_NONCE)
        data = json.dumps(asdict(grant), separators=(",", ":"), default=json_value).encode("utf-8")
        return b64encode(_VERSION + nonce + self._ciphers[0].encrypt(nonce, data, self._aad))

    def open(self, code: str, now: float) -> Grant:
        """The grant ``code`` seals; :class:`InvalidCode` when it is not one of ours or expired."""
        if not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
            raise InvalidCode()
        try:
            raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        except (binascii.Error, ValueError) as e:
            raise InvalidCode() from e
        if raw[:1] != _VERSION or len(raw) < 1 + _NONCE + 16:
            raise InvalidCode()
        nonce, sealed = raw[1:1 + _NONCE], raw[1 + _NONCE:]
        for cipher in self._ciphers:
            try:
                data = cipher.decrypt(nonce, sealed, self._aad)
            except InvalidTag:
                continue
            fields = json.loads(data)
            fields["scope"] = tuple(fields["scope"])
            grant = Grant(**fields)
            if grant.expires < now:
                raise InvalidCode()
            return grant
        raise InvalidCode()


__all__ = ["MAX_CODE_LENGTH", "Codes", "Grant", "InvalidCode"]
