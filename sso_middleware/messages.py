"""The neutral request the skins build and the :class:`Reply` they send back.

Everything the middleware answers goes through these two values, so the WSGI
and ASGI skins cannot differ in what they read or write.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from urllib.parse import quote, unquote_plus, urlsplit

from .errors import BadRequest

MAX_QUERY = 8 * 1024
"""Longest query string the middleware parses (longer ones are refused)."""
MAX_FORM = 16 * 1024
"""Largest request body a receiver reads (only form placements read one)."""
PRINCIPAL_KEY = "sso_middleware.principal"
"""The environ/scope key under which the verifier hands the app its :class:`Principal`."""

# Every response that carries, consumes or refuses a token.
NO_STORE: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)
_SUBMIT = "document.forms[0].submit();"
_SUBMIT_HASH = base64.b64encode(hashlib.sha256(_SUBMIT.encode()).digest()).decode()


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the middleware answers, as both skins read it.

    ``path`` is below ``root`` (``SCRIPT_NAME``/``root_path``), decoded as
    UTF-8; ``query`` is the raw query string; ``headers`` has lower-case names;
    ``body`` is read only when the request's route needs one, and at most one
    byte past that route's limit (so the flow, not the skin, refuses it).
    """

    method: str
    path: str
    query: str = ""
    root: str = ""
    secure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def own_path(request: Request) -> str:
    """The path ``request`` was made to, root path included, as a same-site path to come back to
    (a page's form, the login page's ``next``).

    >>> own_path(Request("GET", "/sso/oidc/authorize", query="client_id=wiki", root="/my app"))
    '/my%20app/sso/oidc/authorize'
    """
    return quote((request.root + request.path).encode("utf-8"))


_HEX = "0123456789abcdefABCDEF"
_ASCII_ESCAPES = {a + b: chr(int(a + b, 16)) for a in "01234567" for b in _HEX}
"""``%XX`` escapes of ASCII characters, by their two digits (either case)."""


def _unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus``, without its byte-by-byte work when every escape is of an
    ASCII character (return URLs: ``https%3A%2F%2F...``); anything else the stdlib's way."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    first, *rest = text.split("%")
    parts = [first]
    for part in rest:
        char = _ASCII_ESCAPES.get(part[:2])
        if char is None:  # an escape of a UTF-8 byte above 0x7F, or a stray "%": let the stdlib judge
            return unquote_plus(text)
        parts += (char, part[2:])
    return "".join(parts)


def parse_query(query: str, names: Iterable[str]) -> dict[str, str]:
    """The named parameters of ``query``; a name given twice is refused (ambiguous).

    >>> parse_query("a=1&b=2&c=3", ["a", "c"])
    {'a': '1', 'c': '3'}
    """
    if len(query) > MAX_QUERY:
        raise BadRequest()
    wanted = names if isinstance(names, (tuple, frozenset, set)) else tuple(names)
    found: dict[str, str] = {}
    # parse_qsl(query, keep_blank_values=True), unquoting only the names and values that need it
    for part in query.split("&"):
        name, _, value = part.partition("=")
        name = _unquote_plus(name)
        if name in wanted and part:
            if name in found:
                raise BadRequest()
            found[name] = _unquote_plus(value)
    return found


def same_origin(request: Request, *, typed: bool = False) -> bool:
    """Whether the browser says this request comes from our own pages: one rule for logout,
    the token endpoint, the fragment bridge and every state-changing POST.

    ``Sec-Fetch-Site`` is trusted when the browser sends it (every current browser does):
    ``same-origin`` passes, ``cross-site`` and ``same-site`` fail, and ``none`` (the person
    typed the address or opened a bookmark) passes only where ``typed`` says a top-level
    navigation is acceptable. Only without it are ``Origin`` and then ``Referer`` read: they
    must name this host. ``Origin: null`` is trusted only beside ``Sec-Fetch-Site:
    same-origin`` (Chromium sends both for a form posted from a page with
    ``Referrer-Policy: no-referrer``); alone it is a sandboxed frame or an opaque origin, and
    refused. A request with none of the three (not a browser) passes: it carries no
    cookie a browser attached for another site.

    >>> from sso_middleware.messages import Request
    >>> def asked(**h: str) -> Request:
    ...     return Request("POST", "/sso/logout", headers={"host": "app.acme.com", **h})
    >>> same_origin(asked(**{"sec-fetch-site": "same-origin", "origin": "null"}))
    True
    >>> same_origin(asked(origin="null")), same_origin(asked(**{"sec-fetch-site": "cross-site"}))
    (False, False)
    """
    site = request.header("sec-fetch-site")
    if site is not None:
        return site == "same-origin" or (typed and site == "none")
    host = (request.header("host") or "").lower()
    origin = request.header("origin")
    if origin is not None:
        return origin != "null" and origin.partition("://")[2].lower() == host
    referer = request.header("referer")
    if referer is not None:
        return referer.partition("://")[2].partition("/")[0].lower() == host
    return True


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP response: status, headers (in order, repeats allowed) and body."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes = b""


def redirect(location: str, *extra: tuple[str, str]) -> Reply:
    """A 303 to ``location`` (already judged safe), never cached, no referrer."""
    return Reply(
        303,
        (("Location", location), *NO_STORE, ("Content-Length", "0"), *extra),
    )


def public_json(document: object, max_age: int) -> Reply:
    """A public JSON document any page may read and cache for ``max_age`` seconds (a published
    JWKS, OpenID Connect discovery): compact, ``nosniff``, CORS open.

    >>> public_json({"keys": []}, 300).headers[2]
    ('Cache-Control', 'public, max-age=300')
    """
    body = json.dumps(document, separators=(",", ":")).encode()
    return Reply(200, (
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", f"public, max-age={max_age}"),
        ("Access-Control-Allow-Origin", "*"),  # public by nature: any page may read it
        ("X-Content-Type-Options", "nosniff"),
    ), body)


def post_form(action: str, fields: Sequence[tuple[str, str]]) -> Reply:
    """An auto-submitting form POSTing ``fields`` to ``action`` (for services that want a POST).

    A content security policy lets only this page's own script run and the
    form go only to the target's origin.
    """
    parts = urlsplit(action)
    origin = f"{parts.scheme}://{parts.netloc}"
    inputs = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields
    )
    body = (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signing you in…</title>"
        '<meta name="referrer" content="no-referrer"></head><body>'
        f'<form method="post" action="{escape(action)}">{inputs}'
        "<noscript><button type=\"submit\">Continue</button></noscript></form>"
        f"<script>{_SUBMIT}</script></body></html>"
    ).encode()
    csp = (
        f"default-src 'none'; script-src 'sha256-{_SUBMIT_HASH}'; "
        f"form-action {origin}; frame-ancestors 'none'; base-uri 'none'"
    )
    return Reply(
        200,
        (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", csp),
            *NO_STORE,
        ),
        body,
    )


def wants_json(accept: str | None) -> bool:
    """True when the client asked for JSON rather than HTML."""
    if not accept:
        return False
    accept = accept.lower()
    return "application/json" in accept and "text/html" not in accept


class FormReader(HTMLParser):
    """Reads back what :func:`post_form` wrote: the form's ``action`` and its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = found.get("action") or ""
        elif tag == "input" and found.get("name"):
            self.fields.append((found["name"] or "", found.get("value") or ""))


__all__ = [
    "MAX_FORM",
    "MAX_QUERY",
    "PRINCIPAL_KEY",
    "FormReader",
    "Reply",
    "Request",
    "own_path",
    "parse_query",
    "post_form",
    "redirect",
    "same_origin",
    "wants_json",
]
