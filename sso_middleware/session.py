"""The verifier's session: a short JWT in an HttpOnly cookie, signed with its own key."""

from __future__ import annotations

import functools
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Generic, TypeVar

from .errors import ConfigurationError, InvalidToken
from .keys import Key, KeySet
from .principal import Principal
from .tokens import OwnTokens, TokenPolicy, sign

T = TypeVar("T")
_TYP = "sso-session"
_MAX_FIELD = 256
_SKEW = 5.0
"""Seconds a session's ``iat`` may be ahead of the reader's clock: hosts sharing sessions keep
clocks that differ a little. Expiry is exact (checked apart from this leeway)."""
_COOKIE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CACHE_SIZE = 16_384
"""Verified session cookies each process keeps per scheme, the least recently used leaving first
(about 1.6 KB each with a 300-byte cookie: some 25 MB at most; ``benchmarks/sessions.py``
measures it). A cookie not held is checked in full again, so the bound costs time, never safety."""


def cookie_values(header: str, name: str) -> list[str]:
    """Every value of cookie ``name`` in a ``Cookie`` header, in order.

    >>> cookie_values("a=1; sso=x; b=2; sso=y", "sso")
    ['x', 'y']
    """
    return [value.strip() for value in _cookie_pattern(name).findall(header)]


@functools.lru_cache(maxsize=64)
def _cookie_pattern(name: str) -> re.Pattern[str]:
    """What :func:`cookie_values` finds: each ``;``-separated part whose name, stripped (``\\s`` is
    what ``str.strip`` strips), is ``name``; the part's value after its first ``=``. A name no
    such part can have (a ``;`` or ``=`` in it, whitespace around it) is never found."""
    if ";" in name or "=" in name or name != name.strip():
        return re.compile(r"(?!)")
    return re.compile(r"(?:^|;)\s*" + re.escape(name) + r"\s*=([^;]*)")


@dataclass(slots=True)
class Session(Generic[T]):
    """A verified session cookie: what the app is handed, and what revocation needs. Cached and
    shared by every request of the session: read, never written (not frozen, as a frozen
    dataclass's ``__init__`` costs a call per field on every cache miss)."""

    view: T
    """What the verifier's ``view`` made of the user (immutable too)."""
    user: str
    """The user, as revocation files them: ``service`` and ``sub``."""
    sid: str
    opened: float
    expires: float
    source: str = ""
    """Which login token opened it (a digest), so that token presented again can continue."""


class Sessions:
    """Opens and reads the verifier's session cookie.

    A new cookie (fresh ``sid``) on every login, so no session can be fixed in
    advance; HttpOnly, SameSite=Lax (Strict would drop the cookie on the
    cross-site landing), Secure and the ``__Host-`` name prefix on https, Path=/,
    Max-Age. The cookie is signed
    with a key of its own (by default derived from the verifier's key for this
    purpose only), so a session cookie never verifies as a login token.
    Verified cookies are cached (bounded: ``cache_size`` entries per scheme, the
    least recently used out first; expiry honoured) to keep authenticated requests
    cheap; a cookie the cache does not hold is checked in full again.

    >>> sessions = Sessions(Key("a-secret-of-at-least-thirty-two-bytes!"))
    >>> cookie = sessions.open(Principal(7, "ada@example.com", "Ada"), "frill", 1000.0, True)
    >>> cookie.startswith("__Host-sso_session=")
    True
    """

    def __init__(
        self,
        key: Key,
        *,
        cookie_name: str = "sso_session",
        max_age: int = 8 * 3600,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ConfigurationError("session_max_age must be a positive number of seconds.")
        if not isinstance(cookie_name, str) or not _COOKIE_NAME.fullmatch(cookie_name):
            raise ConfigurationError(f"cookie_name {cookie_name!r}: use letters, digits, '_', '-', '.'.")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ConfigurationError("cache_size must be a whole number of sessions, at least 1.")
        self.key = key
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.policy = TokenPolicy(
            KeySet([key]), typ=_TYP, required=("sub", "sid", "iat"), identity=("sub",), leeway=_SKEW,
            max_lifetime=max_age,
        )
        # one cache per scheme: the same header names a different cookie on https (__Host-)
        self._caches: tuple[OrderedDict[str | bytes, Session[Any]], ...] = (
            OrderedDict(), OrderedDict())
        self._name_bytes = cookie_name.encode("ascii")
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._tokens = OwnTokens(key, self.policy, typ=_TYP)
        self._patterns = (_cookie_pattern(self.name(False)), _cookie_pattern(self.name(True)))

    def open(self, principal: Principal, service: str, now: float, secure: bool, source: str = "") -> str:
        """A ``Set-Cookie`` value for a fresh session of ``principal``, opened by the login
        token ``source`` names (a digest, never the token)."""
        claims: dict[str, Any] = {"sub": principal.id, "svc": service}
        for name in ("email", "name"):
            value = getattr(principal, name)
            if isinstance(value, str) and len(value) <= _MAX_FIELD:
                claims[name] = value
        claims["sid"] = secrets.token_urlsafe(16)
        # to the millisecond, rounded down: "signed out everywhere at t" ends every session opened
        # up to t's millisecond, and spares a login a millisecond later
        claims["iat"] = math.floor(now * 1000) / 1000
        claims["exp"] = int(now) + self.max_age
        if source:
            claims["src"] = source
        return self._cookie(sign(claims, self.key, typ=_TYP), self.max_age, secure)

    def close(self, secure: bool) -> str:
        """A ``Set-Cookie`` value that deletes the session."""
        return self._cookie("", 0, secure)

    def name(self, secure: bool) -> str:
        """The cookie's name: on https with the ``__Host-`` prefix, which browsers only accept
        from this very host (Secure, Path=/, no Domain), so a sibling subdomain cannot plant one."""
        return "__Host-" + self.cookie_name if secure else self.cookie_name

    def read(
        self, cookie_header: str | bytes, now: float, view: Callable[[Principal], T], secure: bool = False
    ) -> tuple[Session[T] | None, bool]:
        """The session in a ``Cookie`` header (its ``view`` is ``view(principal)``), and whether
        a session cookie was sent at all. Revocation is the caller's to check.

        A tampered or expired cookie gives ``(None, True)``: the caller clears it.
        Two different cookies of our name give ``(None, False)``: one may have been
        planted by a sibling subdomain, so neither is trusted, and ours is kept.
        Results are cached by the whole header, so an authenticated request costs
        a dictionary lookup; entries leave when the session expires. ``view``
        builds what the caller hands its app (it is cached too, so it must be
        immutable). The header may be the bytes an ASGI server gave (latin-1, as HTTP is).
        """
        cache = self._caches[secure]
        cached = cache.get(cookie_header)  # first: a hit needs no look for our name (a scan costs as much)
        if cached is not None:
            if now <= cached.expires:
                try:  # the most recently used go out last (another thread may have just evicted it)
                    cache.move_to_end(cookie_header)
                except KeyError:
                    pass
                return cached, True
            with self._lock:
                cache.pop(cookie_header, None)
        value = self._value(cookie_header, secure)
        if not value:
            return None, False
        try:
            subject, claims = self._tokens.read(value, now)
        except InvalidToken:
            return None, True
        if now >= claims["exp"]:  # the leeway is for another host's clock at the start, not the end
            return None, True
        principal = Principal.from_claims(subject, claims)
        result = Session(view(principal), user_key(str(claims.get("svc", "")), principal.id),
                         str(claims["sid"]), float(claims["iat"]), float(claims["exp"]),
                         str(claims.get("src", "")))
        with self._lock:
            if len(cache) >= self._cache_size:
                cache.popitem(last=False)  # the least recently used (O(1): a linked list, no scan)
            cache[cookie_header] = result
        return result, True

    def _value(self, cookie_header: str | bytes, secure: bool) -> str | None:
        """The one value of our cookie in the header; ``None`` if there is none, or several
        different ones (cookie tossing: neither is trusted)."""
        if isinstance(cookie_header, bytes):
            if self._name_bytes not in cookie_header:
                return None
            cookie_header = cookie_header.decode("latin-1")
        elif self.cookie_name not in cookie_header:
            return None
        values: list[str] = self._patterns[secure].findall(cookie_header)
        if len(values) == 1:  # (the usual case: no set to build)
            return values[0].strip()
        found = {value.strip() for value in values}
        return found.pop() if len(found) == 1 else None

    def _cookie(self, value: str, max_age: int, secure: bool) -> str:
        return set_cookie(self.name(secure), value, max_age, secure)


def set_cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value as the verifier sets every cookie: Path=/, HttpOnly, SameSite=Lax
    (Strict would drop it on the cross-site landing), Secure on https."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["max-age"] = max_age
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


class Trip:
    """What a placement's own round trip may use: the receiver's name and login path, its keys
    and keys derived from them for one purpose each, short-lived cookies bound to this browser,
    and the clock. Handed to a placement's ``start`` and ``check`` hooks (Discourse's nonce;
    the same fits an OpenID Connect code's state or a confirm page).

    A round trip's cookie is named after the session cookie (``sso_session_discourse_nonce``)
    and set like it (HttpOnly, SameSite=Lax, Secure and ``__Host-`` on https). Its value is
    what the browser sends back, so a value the placement must trust is signed with one of
    :meth:`derive`'s keys (Discourse's nonce carries its own MAC and age).

    >>> sessions = Sessions(Key("a-secret-of-at-least-thirty-two-bytes!"), cookie_name="forum")
    >>> trip = Trip("forum", "/sso", KeySet([Key("another-secret-of-thirty-two-bytes!")]), sessions)
    >>> trip.remember("nonce", "n-1", 600, secure=False).split(";")[0]
    'forum_nonce=n-1'
    >>> trip.recall("a=1; forum_nonce=n-1", "nonce", secure=False)
    'n-1'
    """

    __slots__ = ("_derived", "_sessions", "clock", "keys", "listen", "service")

    def __init__(self, service: str, listen: str | None, keys: KeySet, sessions: Sessions,
                 clock: Callable[[], float] = time.time) -> None:
        self.service = service
        self.listen = listen
        """The path the answer comes back to (a round trip names it to the other side)."""
        self.keys = keys
        """The receiver's login keys (a round trip that signs its request signs with ``keys.signing``)."""
        self.clock = clock
        self._sessions = sessions
        self._derived: dict[str, bytes] = {}

    def derive(self, purpose: str) -> bytes:
        """A key for ``purpose`` only, derived from the signing key (the same on every process
        sharing the key; computed once)."""
        key = self._derived.get(purpose)
        if key is None:
            key = self._derived[purpose] = self.keys.signing.derive(purpose)
        return key

    def remember(self, label: str, value: str | None, max_age: int, secure: bool) -> str:
        """A ``Set-Cookie`` keeping ``value`` in this browser for ``max_age`` seconds, under the
        session cookie's name and ``_label`` (``None`` deletes it)."""
        return set_cookie(self._name(label, secure), value or "", max_age if value else 0, secure)

    def recall(self, cookie_header: str, label: str, secure: bool) -> str | None:
        """What :meth:`remember` kept, if the browser sent exactly one non-empty value."""
        found = cookie_values(cookie_header, self._name(label, secure))
        return found[0] if len(found) == 1 and found[0] else None

    def _name(self, label: str, secure: bool) -> str:
        return f"{self._sessions.name(secure)}_{label}"


def user_key(service: str, user_id: object) -> str:
    """How revocation names a user: the service they signed in through, and their id.

    >>> user_key("frill", 7) == user_key("frill", "7") != user_key("canny", 7)
    True
    """
    return f"{service}\x1f{user_id}"


__all__ = [
    "Session",
    "Sessions",
    "Trip",
    "cookie_values",
    "set_cookie",
    "user_key",
]
