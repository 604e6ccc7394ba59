"""How a token travels from the issuer to a service, one small class per way.

A placement knows both ends of the trip, in two halves: :class:`Issuing` (how the
issuer signs and delivers a token to a target URL) and :class:`Receiving` (how a
receiver standing where the token lands recognises the request, which methods it
accepts, where in the request the token is, how it is checked). A placement that
owns a round trip (Discourse's nonce) fills in :class:`RoundTrip`'s hooks, so the
verifier reads every login the same way. Adding a way for tokens to travel means
adding one class here (and its case in ``tests/test_placements.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .errors import (
    BadRequest,
    ConfigurationError,
    CrossSiteRequest,
    InvalidClaim,
    InvalidSignature,
    InvalidToken,
    MissingTokenClaim,
    TokenExpired,
    TokenMissing,
    TokenTooLarge,
)
from .keys import same_secret
from .messages import MAX_FORM, NO_STORE, Reply, Request, parse_query, post_form, redirect, same_origin
from .redirects import safe_relative_path, with_params
from .tokens import TokenPolicy, Verified, check_claims, sign, verify

if TYPE_CHECKING:
    from .keys import Key, KeySet
    from .session import Trip

logger = logging.getLogger("sso_middleware")

Inbound = tuple[str | None, tuple[tuple[str, str], ...]]
"""A signed login request's return value, and the values to copy into the token."""
TOKEN = "{token}"
"""Marks where the token goes in a :class:`PathSegment` target."""
_PARAM = re.compile(r"[A-Za-z0-9_.~-]{1,64}")
_NOT_IN_SEGMENT = frozenset("/?#")


def check_param(value: object, label: str) -> str:
    """``value`` if it is a plain parameter name, else a :class:`ConfigurationError`."""
    if not (isinstance(value, str) and _PARAM.fullmatch(value)):
        raise ConfigurationError(f"{label} {value!r} is not a parameter name (letters, digits, _.~-).")
    return value


class Issuing:
    """The issuing half of a placement: how a signed token reaches its target.

    Like itsdangerous' ``SigningAlgorithm``: one method to write, one with a default.
    ``stamps`` and ``fetched`` say how the issuer treats the token around them.

    >>> from sso_middleware.keys import Key
    >>> half: Issuing = QueryParameter("jwt")
    >>> token = half.encode({"sub": "ada"}, Key("a-secret-of-at-least-thirty-two-bytes!"), None)
    >>> half.deliver("https://docs.example.com/sso", token, []).status
    303
    """

    stamps: ClassVar[bool] = True
    """Whether a minted token carries ``iat``, ``exp`` and ``jti`` (a JWT does)."""
    fetched: ClassVar[bool] = False
    """Whether the page's own script fetches the token (the issuer answers JSON at
    ``{prefix}/{service}/token`` instead of sending the browser anywhere)."""

    __slots__ = ()

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        """The reply that sends the browser (and the token) to ``target`` (``expires``: when the
        token stops being good, for placements that tell the page)."""
        raise NotImplementedError

    def encode(self, claims: Mapping[str, Any], key: Key, typ: str | None,
               header: Mapping[str, str] | None = None) -> str:
        """The token carrying ``claims``, signed with ``key``: a compact JWS (with ``header``'s
        members beside ``alg``, ``kid`` and ``typ``)."""
        return sign(claims, key, typ=typ, header=header)

    def inbound(self, query: str, keys: KeySet | None) -> Inbound | None:
        """For a service whose login request is itself signed (Discourse): the checked request's
        return value and the values it asks to have copied into the token; ``None`` otherwise."""
        return None


class Receiving:
    """The receiving half of a placement: where a token is in a request, and how it is checked.

    One method to write (:meth:`extract`), one with a default (:meth:`verify`); ``methods``,
    ``body_limit`` and :meth:`matches` say which requests are logins at all.

    >>> half: Receiving = QueryParameter("jwt")
    >>> half.extract("/sso", Request("GET", "/sso", "jwt=a.b.c&next=/"))
    'a.b.c'
    """

    methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD")
    """The methods a receiver accepts for a login."""
    body_limit: ClassVar[int] = 0
    """How many body bytes a receiver reads (only form posts read any)."""

    __slots__ = ()

    def extract(self, listen: str | None, request: Request) -> str | None:
        """The token in ``request`` (``None`` or empty when it carries none)."""
        raise NotImplementedError

    def verify(self, token: str, policy: TokenPolicy, now: float) -> Verified:
        """Check a token that reached a receiver (see :func:`sso_middleware.tokens.verify`)."""
        return verify(token, policy, now)

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        """Is this request a login for a receiver listening on ``listen``? String compares only."""
        return path == listen

    def exact(self, listen: str | None) -> bool:
        """Whether :meth:`matches` is just ``path == listen`` (then the verifier compares the
        path itself, without a call on every request)."""
        return type(self).matches is Receiving.matches


class RoundTrip:
    """A receiving placement's own round trip, for the flows that begin at the receiver.

    The verifier reads every login the same way: extract, verify, :meth:`check`, :meth:`hold`
    (a confirm page answers here, consuming nothing), consume the one-time id, open the session.
    A visit that carries no token is handed to :meth:`start`.
    The defaults are a placement without a round trip (a visit without a token is refused;
    a verified token is the answer). A stateful placement (Discourse's nonce; next, an OpenID
    Connect authorization code or a confirm page for emailed links) overrides both, keeping
    what it needs in the browser and in derived keys through ``trip``
    (a :class:`~sso_middleware.session.Trip`). Everything :meth:`check` refuses is refused
    before the one-time id is consumed.

    >>> hooks: RoundTrip = QueryParameter()  # no round trip: a visit without a token is refused
    >>> hooks.start(Request("GET", "/sso"), None, 0.0) is None  # type: ignore[arg-type]
    True
    """

    __slots__ = ()

    def start(self, request: Request, trip: Trip, now: float) -> Reply | None:
        """The answer to a visit that carries no token: the round trip's first step (a redirect
        to the provider, a page), or ``None`` to refuse it as missing its token."""
        return None

    def check(self, verified: Verified, request: Request, trip: Trip, now: float) -> Verified:
        """Check that a verified answer belongs to a round trip this browser started (its
        ``expires`` may shorten); refuse with an ``SSOError`` otherwise."""
        return verified

    def hold(self, verified: Verified, request: Request, trip: Trip, now: float) -> Reply | None:
        """A checked token this request must not consume yet: the reply instead (a confirm
        page, see :class:`sso_middleware.confirm.Confirm`), or ``None`` to sign in now. The
        verifier refuses a held token that its replay store already knows as used."""
        return None

    def ready(self, where: str, *, remote: bool) -> None:
        """Refuse (a ``ConfigurationError``) a receiver this placement cannot serve: ``remote``
        when its keys come from a JWKS URL."""


class Placement(Issuing, Receiving, RoundTrip):
    """Where a token travels: both halves, and the target URL they share.

    :param param: the query parameter or form field that carries the token.
    """

    needs_target: ClassVar[bool] = True
    starts: ClassVar[bool] = False
    """Whether the issuer's login request comes signed from the service, which names its own
    return URL inside (Discourse sends a nonce first)."""

    __slots__ = ("param",)

    def __init__(self, param: str = "token") -> None:
        self.param = check_param(param, f"{type(self).__name__}: param")

    def check_target(self, target: str, where: str) -> None:
        """Refuse a target URL this placement cannot deliver to."""
        if TOKEN in target:
            raise ConfigurationError(f"{where}: '{TOKEN}' in the target needs placement=PathSegment().")

    def listen_path(self, base: str) -> str:
        """The path a receiver listens on, given the target's (or the configured) path; a target
        that names a directory (HappyFox's ``/jwt/``) is listened for as the vendor spells it."""
        if base.endswith("/") and not base.endswith("//") and len(base) > 1 and TOKEN not in base:
            return base
        return base.rstrip("/") or "/"

    def handed(self, answer: Mapping[str, str]) -> dict[str, str]:
        """What a page's widget sends the service from a fetched answer (``fetched``
        placements): the token, in ``param``."""
        return {self.param: answer.get("token", "")}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.param == self.param

    def __hash__(self) -> int:
        return hash((type(self), self.param))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.param!r})"


class QueryParameter(Placement):
    """The token in a query parameter of a GET: ``https://board.example.com/?ssoToken=…``.

    Without a target the token goes back on the (validated) return URL, and a
    receiver accepts it on any page whose query carries ``param`` (Frill).

    >>> QueryParameter("ssoToken").deliver("https://b.example.com/p?x=1", "T", []).headers[0]
    ('Location', 'https://b.example.com/p?x=1&ssoToken=T')
    """

    needs_target = False
    __slots__ = ()

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        return redirect(with_params(target, [*params, (self.param, token)]))

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        if listen is None:
            marker = self.param + "="
            return query.startswith(marker) or "&" + marker in query
        return path == listen

    def exact(self, listen: str | None) -> bool:
        return listen is not None

    def extract(self, listen: str | None, request: Request) -> str | None:
        return parse_query(request.query, (self.param,)).get(self.param)


class PathSegment(Placement):
    """The token as the last path segment: ``https://acme.invoiced.com/login/{token}``.

    >>> PathSegment().deliver("https://acme.invoiced.com/login/{token}", "a.b.c", []).headers[0]
    ('Location', 'https://acme.invoiced.com/login/a.b.c')
    """

    __slots__ = ()

    def check_target(self, target: str, where: str) -> None:
        path = urlsplit(target).path
        if target.count(TOKEN) != 1 or not (path.endswith(TOKEN) or path.endswith(TOKEN + "/")):
            raise ConfigurationError(
                f"{where}: with placement=PathSegment() the target must end its path with "
                f"'{TOKEN}' (or '{TOKEN}/'), e.g. 'https://acme.invoiced.com/login/{TOKEN}'."
            )

    def listen_path(self, base: str) -> str:
        base = base[: base.index(TOKEN)] if TOKEN in base else base
        return base if base.endswith("/") else base + "/"

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        return redirect(with_params(target.replace(TOKEN, quote(token, safe="")), params))

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        return listen is not None and len(path) > len(listen) and path.startswith(listen)

    def extract(self, listen: str | None, request: Request) -> str | None:
        token = request.path[len(listen or "") :]
        token = token[:-1] if token.endswith("/") else token  # Upvoty's '/{token}/'
        return None if _NOT_IN_SEGMENT.intersection(token) else token

    def __repr__(self) -> str:
        return "PathSegment()"


class FormField(Placement):
    """The token POSTed in a form field by an auto-submitting page (Zendesk's ``jwt``).

    Other parameters (Zendesk's ``return_to``, ``brand_id``, ...) go in the form's action
    URL, as the service's own examples put them; only the token travels in the body.

    >>> FormField("jwt").deliver("https://acme.zendesk.com/access/jwt", "T", []).status
    200
    """

    methods = ("POST",)
    body_limit = MAX_FORM
    __slots__ = ()

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        return post_form(with_params(target, params), [(self.param, token)])

    def extract(self, listen: str | None, request: Request) -> str | None:
        return parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param)


class Fragment(Placement):
    """The token in the URL's fragment, which browsers never send to a server (Mintlify).

    ``Fragment()`` puts the bare token after ``#``; ``Fragment("jwt")`` puts ``#jwt=<token>``.
    Other parameters (Mintlify's ``redirect``) go in the query. A receiver answers the visit
    with a small page whose script takes the token out of the address bar (so it stays out
    of history) and POSTs it back to the same address, same-origin; that POST is checked.

    >>> Fragment().deliver("https://docs.acme.com/login/jwt-callback", "a.b.c",
    ...                    [("redirect", "/quickstart")]).headers[0]
    ('Location', 'https://docs.acme.com/login/jwt-callback?redirect=%2Fquickstart#a.b.c')
    """

    methods = ("GET", "HEAD", "POST")
    body_limit = MAX_FORM
    __slots__ = ()

    def __init__(self, param: str | None = None) -> None:
        self.param = "" if param is None else check_param(param, "Fragment: param")

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        fragment = urlencode([(self.param, token)]) if self.param else quote(token, safe="")
        return redirect(f"{with_params(target, params)}#{fragment}")

    def extract(self, listen: str | None, request: Request) -> str | None:
        if request.method != "POST":
            return None
        if not same_origin(request):  # only our own bridge page posts here
            raise CrossSiteRequest()
        return parse_query(request.body.decode("latin-1"), ("token",)).get("token")

    def start(self, request: Request, trip: Trip, now: float) -> Reply | None:
        """A visit gets the bridge page (the token is in its fragment, which only the page sees);
        the bridge's own POST without a token is refused."""
        return fragment_bridge(self.param) if request.method != "POST" else None

    def __repr__(self) -> str:
        return f"Fragment({self.param!r})" if self.param else "Fragment()"


# The bridge page's one script: the token leaves the address bar before anything else runs.
_BRIDGE = (
    'var f=document.forms[0],p=f.getAttribute("data-param"),h=location.hash.slice(1);'
    'history.replaceState(null,"",location.pathname+location.search);'
    'var t=p?new URLSearchParams(h).get(p):decodeURIComponent(h);'
    'if(t){f.token.value=t;f.submit();}else{document.body.textContent="No sign-in token arrived.";}'
)
_BRIDGE_HASH = base64.b64encode(hashlib.sha256(_BRIDGE.encode()).digest()).decode()


def fragment_bridge(param: str) -> Reply:
    """The page a :class:`Fragment` receiver answers: it POSTs the fragment's token to itself."""
    body = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Signing you in…</title></head><body>'
        f'<form method="post" data-param="{escape(param)}"><input type="hidden" name="token"></form>'
        f"<script>{_BRIDGE}</script></body></html>"
    ).encode()
    csp = (f"default-src 'none'; script-src 'sha256-{_BRIDGE_HASH}'; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")
    # "same-origin", not "no-referrer": under no-referrer browsers POST with "Origin: null", which
    # the receiver must refuse; the page's own address holds no token (fragments are never sent)
    headers = [(n, "same-origin" if n == "Referrer-Policy" else v) for n, v in NO_STORE]
    return Reply(200, (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                       ("Content-Security-Policy", csp), *headers), body)


class TokenEndpoint(Placement):
    """The page's own script fetches the token: ``GET {prefix}/{service}/token`` answers
    ``{"token": …, "expires_at": …}`` to the signed-in user's pages (Intercom, Tableau).

    The issuer answers same-origin requests only (no CORS), never caches, and answers an
    anonymous visitor ``401`` in JSON. A receiver standing in for such a service takes the
    token POSTed in the form field ``param`` on its path, as a widget's backend would.
    See :func:`sso_middleware.snippets.token_script` for the page's side.

    :param member: the JSON member that carries the token (Metabase's SDK reads ``jwt``).

    >>> TokenEndpoint().deliver("", "a.b.c", [], expires=1700000300).body
    b'{"token":"a.b.c","expires_at":1700000300}'
    """

    methods = ("POST",)
    body_limit = MAX_FORM
    needs_target = False
    fetched = True
    __slots__ = ("member",)

    def __init__(self, param: str = "token", *, member: str = "token") -> None:
        super().__init__(param)
        self.member = check_param(member, "TokenEndpoint: member")

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        body = json.dumps({self.member: token, "expires_at": expires}, separators=(",", ":")).encode()
        return Reply(200, (("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                           *NO_STORE), body)

    def extract(self, listen: str | None, request: Request) -> str | None:
        return parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param)

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and other.member == self.member  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.param, self.member))

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.param!r})" if self.member == "token" else (
            f"TokenEndpoint({self.param!r}, member={self.member!r})")


_MAX_FIELDS = 32


class UserHash(Placement):
    """Not a JWT: the lower-case hex HMAC-SHA256 of one user field, which chat and onboarding
    widgets take beside the user's fields ("identity verification": Help Scout Beacon's
    ``signature``, Intercom's ``user_hash``, Chatwoot's ``identifier_hash``, ...).

    ``GET {prefix}/{service}/token`` answers the signed-in user's own pages with the widget's
    fields and the hash under ``param`` (same-origin only, never cached, as
    :class:`TokenEndpoint`). What it does not give: the hash never expires and is the same on
    every page and every day, so it proves who the user is, not that a session is fresh; to
    revoke it, rotate the secret. A receiver standing in for such a widget takes the fields
    POSTed back, recomputes the hash of ``of`` in constant time, and accepts it again and again,
    as the vendor does.

    :param param: the widget's name for the hash (``"signature"``, ``"user_hash"``).
    :param of: the field whose value is hashed (``"email"``, ``"user_id"``).

    >>> from sso_middleware.keys import Key
    >>> UserHash("signature", of="email").encode({"email": "ada@example.com"}, Key("s" * 32), None)
    '{"email":"ada@example.com","signature":"b19c3828e14008f19fa3f8cf0bf63f9047ec574805a3fa8450b48efe2dbbcb1c"}'
    """

    methods = ("POST",)
    body_limit = MAX_FORM
    needs_target = False
    fetched = True
    stamps = False
    __slots__ = ("of",)

    def __init__(self, param: str, *, of: str) -> None:
        super().__init__(param)
        self.of = check_param(of, "UserHash: of")
        if self.of == self.param:
            raise ConfigurationError("UserHash: the hash and the hashed field need two names.")

    def digest(self, value: str, key: Key) -> str:
        """The hash of ``value``: HMAC-SHA256 with the secret, lower-case hex."""
        if key.secret is None or key.algorithm != "HS256":
            raise ConfigurationError("a user hash is an HMAC-SHA256: give the shared secret (HS256).")
        return key.sign(value.encode("utf-8")).hex()

    def encode(self, claims: Mapping[str, Any], key: Key, typ: str | None,
               header: Mapping[str, str] | None = None) -> str:
        fields = {name: value for name, value in claims.items() if value is not None}
        hashed = fields.get(self.of)
        if hashed is None or hashed == "":  # (the claim builder requires it)
            raise MissingTokenClaim(self.of)
        fields[self.of] = str(hashed)
        fields[self.param] = self.digest(fields[self.of], key)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        body = token.encode("utf-8")
        return Reply(200, (("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                           *NO_STORE), body)

    def extract(self, listen: str | None, request: Request) -> str | None:
        body = request.body.decode("latin-1")
        return body if parse_query(body, (self.param,)).get(self.param) else None

    def handed(self, answer: Mapping[str, str]) -> dict[str, str]:
        """The widget sends the fields and their hash as they came."""
        return dict(answer)

    def verify(self, token: str, policy: TokenPolicy, now: float) -> Verified:
        """The fields a widget sent: the hash of ``of`` recomputed with each key (constant time),
        then the required fields and the identity. Good every time, as the vendor takes it."""
        try:
            pairs = parse_qsl(token.encode("latin-1").decode("utf-8"), keep_blank_values=True,
                              strict_parsing=True, max_num_fields=_MAX_FIELDS)
        except (ValueError, UnicodeError) as e:
            raise InvalidToken() from e
        fields = dict(pairs)
        sent, hashed = fields.pop(self.param, ""), fields.get(self.of)
        if len(fields) + 1 != len(pairs) or not _HEX_SIG.fullmatch(sent):
            raise InvalidToken()
        if not hashed:
            raise MissingTokenClaim(self.of)
        if not any(same_secret(self.digest(hashed, key), sent) for key in policy.keys.keys if key.secret):
            raise InvalidSignature()
        subject = check_claims(fields, policy, now, only=("required", "identity")).subject
        return Verified(dict(fields), {}, subject, now + policy.max_lifetime, secrets.token_hex(16))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserHash) and (other.param, other.of) == (self.param, self.of)

    def __hash__(self) -> int:
        return hash((type(self), self.param, self.of))

    def __repr__(self) -> str:
        return f"UserHash({self.param!r}, of={self.of!r})"


_HEX_SIG = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[A-Za-z0-9_.~-]{8,200}")
_OWN_NONCE = re.compile(r"[0-9]{1,12}\.[0-9a-f]{32}\.[0-9a-f]{32}")  # SignedPayload.new_nonce's shape
MAX_PAYLOAD = 4096
NONCE_LIFETIME = 600  # Discourse remembers a nonce for 10 minutes
_NONCE_PURPOSE = "round-trip nonce"


class SignedPayload(Placement):
    """Discourse Connect: a Base64 query-string payload ``sso`` and its hex HMAC-SHA256 ``sig``.

    Not a JWT: a round trip. The receiver (Discourse) sends ``nonce`` and ``return_sso_url``
    signed with the shared secret; the provider checks the signature in constant time, and
    answers on ``return_sso_url`` with the user's fields and the same nonce, signed the same
    way. Payloads are parsed strictly: bounded size, Base64 that decodes exactly, UTF-8, no
    name given twice. A receiver starts the round trip at ``provider`` with a nonce of its
    own (signed, bound to the browser by a cookie, good for 10 minutes, used once).

    :param provider: where a receiver sends the browser to start (the identity provider's
        DiscourseConnect URL); ``None`` for a service that only issues.
    :param entry: another path where a receiver starts a round trip, and only starts one
        (Discourse's ``/session/sso``, with an optional same-site ``return_path``); answers
        are taken on the receiver's own path alone.

    >>> from sso_middleware.keys import Key, KeySet
    >>> secret = "d836444a9e4084d5b224a60c208dce14"
    >>> token = SignedPayload().encode({"nonce": "cb68251eefb5211e58c00ff1395f0c0b",
    ...                                 "email": "ada@example.com"}, Key(secret), None)
    >>> SignedPayload().inbound(token, KeySet([Key(secret)]))
    (None, (('nonce', 'cb68251eefb5211e58c00ff1395f0c0b'),))
    """

    needs_target = False
    starts = True
    stamps = False
    __slots__ = ("entry", "provider")

    def __init__(self, provider: str | None = None, *, entry: str | None = None) -> None:
        super().__init__("sso")
        self.provider = provider
        if entry is not None and (safe_relative_path(entry) is None or "?" in entry or "#" in entry):
            raise ConfigurationError(f"SignedPayload: entry {entry!r} must be a path such as '/session/sso'.")
        self.entry = entry

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        return path == listen or (self.entry is not None and path == self.entry)

    def encode(self, claims: Mapping[str, Any], key: Key, typ: str | None,
               header: Mapping[str, str] | None = None) -> str:
        fields = [(name, _field(value)) for name, value in claims.items() if value is not None]
        payload = base64.b64encode(urlencode(fields, quote_via=quote).encode("utf-8")).decode("ascii")
        return urlencode({"sso": payload, "sig": key.sign(payload.encode("ascii")).hex()})

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]],
                expires: int | None = None) -> Reply:
        return redirect(with_params(target, [*params, *parse_qsl(token)]))

    def decode(self, query: str, keys: KeySet) -> dict[str, str]:
        """The fields of a signed request or answer; an ``InvalidToken`` unless it is exactly right."""
        params = parse_query(query, ("sso", "sig"))
        payload, sig = params.get("sso"), params.get("sig")
        if not payload or not sig:
            raise TokenMissing()
        if len(payload) > MAX_PAYLOAD:
            raise TokenTooLarge()
        if not _HEX_SIG.fullmatch(sig):
            raise InvalidSignature()
        signed = payload.encode("ascii", "replace")
        if not any(same_secret(key.sign(signed).hex(), sig) for key in keys.keys):
            raise InvalidSignature()
        try:  # Ruby's Base64.encode64 wraps lines: the newlines are signed, and dropped here
            text = base64.b64decode(payload.replace("\n", ""), validate=True).decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=64)
        except (binascii.Error, ValueError) as e:  # UnicodeDecodeError is a ValueError
            raise InvalidToken() from e
        fields = dict(pairs)
        if len(fields) != len(pairs) or not all(len(v) <= 2048 and v.isprintable() for v in fields.values()):
            raise InvalidToken()
        return fields

    def inbound(self, query: str, keys: KeySet | None) -> Inbound:
        if keys is None:
            raise ConfigurationError("a signed login request needs the service's own key, not key=callable.")
        fields = self.decode(query, keys)
        nonce = fields.get("nonce", "")
        if not _NONCE.fullmatch(nonce):
            raise MissingTokenClaim("nonce") if not nonce else InvalidClaim("nonce")
        return fields.get("return_sso_url"), (("nonce", nonce),)

    def extract(self, listen: str | None, request: Request) -> str | None:
        query = request.query
        if request.path != listen:  # the entry path only starts round trips
            return None
        return query if "sso=" in query and "sig=" in query else None

    def new_nonce(self, key: bytes, now: float) -> str:
        """A nonce this receiver can recognise as its own (and its age) without storing it."""
        body = f"{int(now)}.{secrets.token_hex(16)}"
        return f"{body}.{hmac.new(key, body.encode(), 'sha256').hexdigest()[:32]}"

    def check_nonce(self, nonce: str, key: bytes, now: float) -> float:
        """When ``nonce`` (one of :meth:`new_nonce`'s) stops being good; refuses any other."""
        if not _OWN_NONCE.fullmatch(nonce):  # (an answer's nonce is any text the provider echoed)
            raise InvalidClaim("nonce")
        issued = nonce.partition(".")[0]
        body, _, mac = nonce.rpartition(".")
        if not same_secret(mac, hmac.new(key, body.encode("ascii"), "sha256").hexdigest()[:32]):
            raise InvalidClaim("nonce")
        expires = int(issued) + NONCE_LIFETIME
        if now >= expires:
            raise TokenExpired()
        return float(expires)

    def verify(self, token: str, policy: TokenPolicy, now: float) -> Verified:
        """The provider's answer: signature, payload, required fields, identity (the nonce is
        :meth:`check`'s: it needs the browser's cookie and the nonce key)."""
        claims: dict[str, Any] = dict(self.decode(token, policy.keys))
        if not claims.get("nonce"):
            raise MissingTokenClaim("nonce")
        subject = check_claims(claims, policy, now, only=("required", "identity")).subject
        return Verified(claims, {}, subject, now, claims["nonce"])

    def ready(self, where: str, *, remote: bool) -> None:
        if self.provider is None:
            raise ConfigurationError(
                f"{where}: a receiver starts each sign-in at the provider; give "
                "SignedPayload(provider='https://app.acme.com/sso/discourse') (services.discourse "
                "does, from url= or provider=)."
            )
        if remote:
            raise ConfigurationError(f"{where} signs with its shared secret: no jwks_url.")

    def start(self, request: Request, trip: Trip, now: float) -> Reply | None:
        """Begin a round trip: a fresh nonce, bound to this browser by a cookie, signed with
        ``return_sso_url`` (the receiver's path, with a same-site ``next``, or Discourse's
        ``return_path`` on the entry path), sent to the provider."""
        host = request.header("host")
        if self.provider is None or not host:  # (the provider was checked when built)
            raise BadRequest()
        nonce = self.new_nonce(trip.derive(_NONCE_PURPOSE), now)
        back = f"{'https' if request.secure else 'http'}://{host}{request.root}{trip.listen}"
        asked = parse_query(request.query, ("next", "return_path"))
        after = safe_relative_path(asked.get("return_path") or asked.get("next"))
        if after is not None:
            back = with_params(back, [("next", after)])
        signed = self.encode({"nonce": nonce, "return_sso_url": back}, trip.keys.signing, None)
        cookie = trip.remember("nonce", nonce, NONCE_LIFETIME, request.secure)
        logger.info("started round trip service=%s", trip.service)
        reply = self.deliver(self.provider, signed, ())
        return replace(reply, headers=(*reply.headers, ("Set-Cookie", cookie)))

    def check(self, verified: Verified, request: Request, trip: Trip, now: float) -> Verified:
        """The answer's nonce must be one this receiver issued, to this very browser, within
        10 minutes (its one-time use is then claimed like any token's). The nonce cookie stays:
        this browser's answer, presented again, continues its session."""
        expires = self.check_nonce(str(verified.once), trip.derive(_NONCE_PURPOSE), now)
        mine = trip.recall(request.header("cookie") or "", "nonce", request.secure)
        if mine is None or not same_secret(mine, str(verified.once)):
            raise InvalidClaim("nonce")
        return verified._replace(expires=expires)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedPayload):
            return False
        return (other.provider, other.entry) == (self.provider, self.entry)

    def __hash__(self) -> int:
        return hash((type(self), self.provider, self.entry))

    def __repr__(self) -> str:
        entry = "" if self.entry is None else f", entry={self.entry!r}"
        return f"SignedPayload(provider={self.provider!r}{entry})"


def _field(value: object) -> str:
    """A payload field as Discourse reads it: booleans ``true``/``false``, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


__all__ = [
    "MAX_PAYLOAD",
    "NONCE_LIFETIME",
    "TOKEN",
    "FormField",
    "Fragment",
    "Inbound",
    "Issuing",
    "PathSegment",
    "Placement",
    "QueryParameter",
    "Receiving",
    "RoundTrip",
    "SignedPayload",
    "TokenEndpoint",
    "UserHash",
    "fragment_bridge",
]
