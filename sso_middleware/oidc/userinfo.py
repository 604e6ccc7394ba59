"""The userinfo endpoint: the claims an access token's scopes released, for its bearer.

The access token is self-contained (RFC 9068): it is verified here with the provider's own
keys (signature, ``typ: at+jwt``, ``iss``, ``aud``, expiry), and the replay store is asked
whether its grant was revoked (its code was presented twice). A refusal is a 401 with
``WWW-Authenticate: Bearer`` (RFC 6750 3).
"""

from __future__ import annotations

from typing import Any, ClassVar

from authlib.oauth2.rfc6750.errors import InvalidTokenError

from ..errors import InvalidToken, ReplayStoreUnavailable
from ..messages import MAX_FORM, Reply, Request
from ..steps import Steps
from .endpoint import Ask, Endpoint, StoreCall, json_reply, logger, oauth_error, refused

REALM = "userinfo"


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 2.1), or ``None``."""
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


class UserInfo(Endpoint):
    """``GET|POST {prefix}/oidc/userinfo`` with ``Authorization: Bearer <access token>``."""

    name: ClassVar[str] = "userinfo"
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    body_limit: ClassVar[int] = MAX_FORM

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        token = bearer(request)
        if token is None:  # no credentials: the challenge alone, no error code (RFC 6750 3.1)
            refused(self.name, "token_missing")
            challenge = ("WWW-Authenticate", f'Bearer realm="{REALM}"')
            return json_reply(401, {"error": "invalid_request"}, challenge)
        now = self.context.clock()
        try:
            verified = self.context.minter.read_access_token(token, now)
        except InvalidToken as e:
            refused(self.name, e.code)
            return self._invalid()
        claims = verified.claims
        user = f"oidc\x1f{claims['client_id']}\x1f{claims['sub']}"
        try:
            revoked = yield StoreCall("revoked", (user, str(claims["grant"]), now), self.context.store)
        except Exception as e:  # fail closed
            refused(self.name, ReplayStoreUnavailable.code)
            logger.warning("replay store failed at the userinfo endpoint: %s", type(e).__name__)
            return json_reply(503, {"error": "temporarily_unavailable"}, ("Retry-After", "1"))
        iat = claims.get("iat")
        if isinstance(iat, (int, float)) and revoked >= iat:
            refused(self.name, "grant_revoked")
            return self._invalid()
        info: Any = claims.get("userinfo")
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            refused(self.name, "invalid_claim")
            return self._invalid()
        return json_reply(200, info)

    def _invalid(self) -> Reply:
        return oauth_error(InvalidTokenError(realm=REALM))


__all__ = ["REALM", "UserInfo", "bearer"]
