"""The verifier's session: a short JWT in an HttpOnly cookie, signed with its own key."""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from typing import Any

from .errors import ConfigurationError, InvalidToken
from .keys import Key, KeySet
from .principal import Principal
from .tokens import TokenPolicy, sign, verify

_TYP = "sso-session"
_MAX_FIELD = 256


class Sessions:
    """Opens and reads the verifier's session cookie.

    A new cookie (fresh ``sid``) on every login, so no session can be fixed in
    advance; HttpOnly, SameSite=Lax (Strict would drop the cookie on the
    cross-site landing), Secure on https, Path=/, Max-Age. The cookie is signed
    with a key of its own (by default derived from the verifier's key for this
    purpose only), so a session cookie never verifies as a login token.
    Verified cookies are cached (bounded, expiry honoured) to keep
    authenticated requests cheap.

    >>> sessions = Sessions(Key("a-secret-of-at-least-thirty-two-bytes!"))
    >>> cookie = sessions.open(Principal(7, "ada@example.com", "Ada"), "frill", 1000.0, True)
    >>> cookie.startswith("sso_session=")
    True
    """

    def __init__(
        self,
        key: Key,
        *,
        cookie_name: str = "sso_session",
        max_age: int = 8 * 3600,
        cache_size: int = 4096,
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ConfigurationError("session_max_age must be a positive number of seconds.")
        if not cookie_name.isidentifier():
            raise ConfigurationError(f"cookie_name {cookie_name!r}: use letters, digits and '_'.")
        self.key = key
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.policy = TokenPolicy(
            KeySet([key]), typ=_TYP, required=("sub", "sid"), leeway=0, max_lifetime=max_age
        )
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size

    def open(self, principal: Principal, service: str, now: float, secure: bool) -> str:
        """A ``Set-Cookie`` value for a fresh session of ``principal``."""
        claims: dict[str, Any] = {"sub": principal.id, "svc": service}
        for name in ("email", "name"):
            value = getattr(principal, name)
            if isinstance(value, str) and len(value) <= _MAX_FIELD:
                claims[name] = value
        claims["sid"] = secrets.token_urlsafe(16)
        claims["iat"] = int(now)
        claims["exp"] = int(now) + self.max_age
        return self._cookie(sign(claims, self.key, typ=_TYP), self.max_age, secure)

    def close(self, secure: bool) -> str:
        """A ``Set-Cookie`` value that deletes the session."""
        return self._cookie("", 0, secure)

    def read(self, value: str, now: float) -> Principal | None:
        """The session's principal, or ``None`` if the cookie is tampered with or expired."""
        cached = self._cache.get(value)
        if cached is not None:
            if now <= cached[1]:
                return cached[0]
            self._cache.pop(value, None)
            return None
        try:
            claims = verify(value, self.policy, now).claims
        except InvalidToken:
            return None
        principal = Principal(
            claims["sub"], claims.get("email"), claims.get("name"), {"service": claims.get("svc")}
        )
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # crude but bounded; a full cache is rebuilt from verified cookies
        self._cache[value] = (principal, float(claims["exp"]))
        return principal

    def _cookie(self, value: str, max_age: int, secure: bool) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[self.cookie_name] = value
        morsel = cookie[self.cookie_name]
        morsel["path"] = "/"
        morsel["max-age"] = max_age
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        if secure:
            morsel["secure"] = True
        return morsel.OutputString()
