"""Marks: short MACs the provider hands the browser and reads back, so it remembers nothing.

Three round trips need the provider to recognise its own earlier answer: the return from the
login page after it sent the user there (``sso_login``: when it sent them, and whether anybody
was signed in then), the consent page's form (``sso_consent``) and the sign-out page's form
(``sso_logout``). Each mark is ``<issued>.<flag>.<mac>``: an HMAC-SHA256, under a key derived
from the provider's signing keys, over its purpose, its issue time, its flag and everything it
is bound to (the request's own parameters, the user). A mark copied onto another request, for
another user, or older than its lifetime does not verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..base64url import encode as b64encode
from ..keys import KeySet

LOGIN = "sso_login"
"""The parameter that marks an authorization request resumed from the login page."""
CONSENT = "sso_consent"
"""The consent form's field: the mark that proves the page was ours, for this user and request."""
LOGOUT = "sso_logout"
"""The sign-out confirmation form's field."""
DECISION = "decision"
"""The button a consent or sign-out form was sent with (``allow`` or ``deny``)."""
FIELDS = frozenset({LOGIN, CONSENT, LOGOUT, DECISION})
"""Parameters of ours: never part of what a mark is bound to."""
MAX_MARK = 100


@dataclass(frozen=True, slots=True)
class Mark:
    """A mark that verified: when it was made, and its flag."""

    issued: int
    flag: str


def bound(params: Mapping[str, str], *extra: str) -> str:
    """What a mark binds: the request's parameters but ours, in a fixed order, and ``extra``."""
    pairs = sorted((k, v) for k, v in params.items() if k not in FIELDS)
    return json.dumps([pairs, list(extra)], separators=(",", ":"), ensure_ascii=True)


class Marks:
    """Makes and checks marks (the newest key makes them; every key checks them: rotation).

    >>> from sso_middleware.keys import Key, KeySet
    >>> marks = Marks(KeySet([Key.generate("ES256")]), "https://app.acme.com/sso")
    >>> mark = marks.make("login", "a", "bound-to", 1000.5)
    >>> marks.check("login", mark, "bound-to", now=1100, ttl=900)
    Mark(issued=1000, flag='a')
    >>> marks.check("login", mark, "other", now=1100, ttl=900) is None
    True
    """

    def __init__(self, keys: KeySet, issuer: str) -> None:
        self._issuer = issuer.encode("utf-8")
        self._keys = [key.derive("oidc marks") for key in keys.keys if key.private]

    def _mac(self, key: bytes, purpose: str, issued: int, flag: str, binding: str) -> str:
        message = b"\x1f".join((self._issuer, purpose.encode(), str(issued).encode(), flag.encode(),
                                binding.encode("utf-8", "surrogatepass")))
        return b64encode(hmac.new(key, message, hashlib.sha256).digest())

    def make(self, purpose: str, flag: str, binding: str, now: float) -> str:
        issued = int(now)
        return f"{issued}.{flag}.{self._mac(self._keys[0], purpose, issued, flag, binding)}"

    def check(self, purpose: str, mark: str | None, binding: str, *, now: float, ttl: int) -> Mark | None:
        """The mark, if it is ours, for ``purpose`` and ``binding``, and at most ``ttl`` seconds old."""
        if not mark or len(mark) > MAX_MARK or not mark.isascii():
            return None
        issued_text, _, rest = mark.partition(".")
        flag, _, mac = rest.partition(".")
        if not issued_text.isdigit() or len(issued_text) > 12:
            return None
        issued = int(issued_text)
        if not issued - 5 <= now <= issued + ttl:  # (five seconds for clocks that differ between hosts)
            return None
        macs = (self._mac(key, purpose, issued, flag, binding) for key in self._keys)
        if not any(hmac.compare_digest(mac, expected) for expected in macs):
            return None
        return Mark(issued, flag)


def every(params: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``params`` without ours (what a page or a redirect carries on)."""
    return [(k, v) for k, v in params if k not in FIELDS]


__all__ = ["CONSENT", "DECISION", "FIELDS", "LOGIN", "LOGOUT", "Mark", "Marks", "bound", "every"]
