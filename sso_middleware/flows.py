"""The framework-free half of both middleware: every decision, one :class:`Request` in, one Reply out.

:class:`IssuerMiddleware` and :class:`VerifierMiddleware` here are the
framework-free halves of the classes users import from ``sso_middleware.wsgi``
and ``sso_middleware.asgi``: they hold the validated configuration and answer
every request the middleware owns (issue, unauthenticated, login, logout,
errors, the session read). The skins subclass them and only translate their
protocol to a :class:`Request` and the :class:`Reply` back; they decide
nothing, so the two skins cannot drift.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar
from urllib.parse import quote

from .errors import (
    BadRequest,
    ConfigurationError,
    CrossSiteRequest,
    InvalidClaim,
    KeysUnavailable,
    MethodNotAllowed,
    NotAuthenticated,
    ReplayStoreUnavailable,
    SessionRevoked,
    SignOutRefused,
    SSOError,
    TokenMissing,
    TokenReplayed,
    TokenTooLarge,
)
from .jwks import JWKS_PATH, RemoteKeys, published
from .keys import Key, KeyInput, KeySet, is_pair, same_secret
from .messages import Reply, Request, parse_query, redirect, same_origin
from .pages import ErrorPageHook, ErrorPages
from .placements import NONCE_LIFETIME, Placement, SignedPayload
from .principal import Principal
from .redirects import absolute_url, safe_relative_path, with_params, without_params
from .replay import MemoryReplayStore, ReplayStore, digest
from .service import Destination, Service, TokenRules
from .session import Sessions, user_key
from .steps import Steps, adrive, drive
from .tokens import TokenPolicy, Verified, named_kid
from .wiring import check_app, check_extractor, wrapped

logger = logging.getLogger("sso_middleware")

Clock = Callable[[], float]
App = TypeVar("App")
T = TypeVar("T")
_SAFE_METHODS = ("GET", "HEAD")


def wall_clock() -> float:
    """``time.time()``, looked up when called (not bound once), so test tools that patch it
    (``freezegun``, ``time-machine``) move the middleware's clock too."""
    return time.time()


def check_prefix(prefix: str, field: str = "prefix") -> str:
    """A URL path prefix such as ``/sso`` (leading slash, no trailing slash, no query)."""
    if (
        not isinstance(prefix, str)
        or safe_relative_path(prefix) is None
        or prefix.endswith("/")
        or "?" in prefix
        or "#" in prefix
    ):
        raise ConfigurationError(
            f"{field} {prefix!r}: use a path such as '/sso' (leading '/', no trailing '/')."
        )
    return prefix


def check_login_url(login_url: str | None) -> str | None:
    """A login URL: a same-site path such as ``/login``, or an absolute http(s) URL."""
    if login_url is not None and not (
        safe_relative_path(login_url) or absolute_url(login_url)
    ):
        raise ConfigurationError(f"login_url {login_url!r}: use a path such as '/login' or an absolute URL.")
    return login_url


def _original_url(request: Request) -> str:
    """The URL a request was made to (root path included), for a ``next`` parameter."""
    url = quote((request.root + request.path).encode("utf-8"))
    return f"{url}?{request.query}" if request.query else url


def _for(request: Request, reply: Reply) -> Reply:
    """``reply`` as ``request`` gets it: a HEAD gets the headers alone (RFC 9110 9.3.2)."""
    return replace(reply, body=b"") if request.method == "HEAD" and reply.body else reply


def _refuse(err: SSOError, request: Request, service: str, allow: Sequence[str], pages: ErrorPages,
            *, json: bool = False) -> Reply:
    """The error page for ``err`` (in JSON for a script's request), logged once. A configuration
    mistake found on a request is logged in full at ERROR; the browser only learns that sign-in
    failed."""
    if isinstance(err, ConfigurationError):
        logger.error("sso_middleware is misconfigured (service=%s): %s", service, err.message)
        err = ConfigurationError()
    else:
        _log_refusal(service, err)
    extra = (("Allow", ", ".join(allow)),) if err.status == 405 else ()
    return _for(request, pages.reply(err, "application/json" if json else request.header("accept"), *extra))


def _log_refusal(service: str, err: SSOError) -> None:
    """One INFO line per refusal: service, code and the error's safe detail (never the token)."""
    if err.detail:
        logger.info("refused request service=%s code=%s detail=%s", service, err.code, err.detail)
    else:
        logger.info("refused request service=%s code=%s", service, err.code)


# -- issuer ---------------------------------------------------------------------


class IssuerMiddleware(Generic[App]):
    """Everything the issuer middleware decides; the skins add ``__call__``.

    On a login path it checks the method and the service's return URL against the service's
    hosts, then asks ``user`` who is signed in, and sends the browser to the service with a
    short-lived token (redirect or auto-submitting form). Nobody signed in: a redirect to
    ``login_url?next=<this URL>``, or a 401 without one.

    A service whose page fetches its token (``TokenEndpoint``: Intercom, Tableau) is answered
    at ``{prefix}/{name}/token`` in JSON, to same-origin requests only. When any service signs
    with a key pair, the public keys are served at ``{prefix}/.well-known/jwks.json``.

    :param app: the app to wrap (WSGI or ASGI, matching the skin).
    :param services: the destinations, e.g. ``services.frill(...)``.
    :param user: the extractor, ``request -> Principal | Mapping | object | None``, called
        with the framework's request object (may be async on ASGI).
    :param prefix: login paths are ``{prefix}/{service.name}``.
    :param login_url: where anonymous users go to sign in (``?next=`` is added); without one
        they get a 401.
    :param error_page: ``ErrorPage -> str | None``: your own HTML for refusals (``None`` from it,
        or no hook, gives the built-in page); see :mod:`sso_middleware.pages`.
    :param clock: the time source (default: ``time.time``, looked up on every call, so
        ``freezegun`` and ``time-machine`` move it; tests may pass a controllable one).
    """

    _awaits: ClassVar[bool] = True
    """Whether the skin can await (an async extractor, an asyncio replay store)."""

    def __init__(
        self,
        app: App,
        *,
        services: Iterable[Service],
        user: Callable[[Any], Any],
        prefix: str = "/sso",
        login_url: str | None = None,
        error_page: ErrorPageHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        owner = type(self).__name__
        check_app(app, asgi=self._awaits, owner=owner)
        self._pages = ErrorPages(error_page)
        if not callable(user):
            raise ConfigurationError("user: pass a callable(request) returning the signed-in user.")
        check_extractor(user, asgi=self._awaits, owner=owner, app=app)
        prefix = check_prefix(prefix)
        self.app = app
        self._user = user
        self._routes: dict[str, Service | Reply] = {}
        services = list(services)
        for service in services:
            if not isinstance(service, Service):
                raise ConfigurationError(
                    f"services: {service!r} is not a Service; build one with "
                    "sso_middleware.services.frill(...), .invoiced(...) or .generic(...)."
                )
            if not service.issues:
                raise ConfigurationError(
                    f"services: {service!r} only receives: "
                    + (service.hint or "it has no claim builder or nowhere to send the browser; give "
                       "it TokenRules(claims=...) and a Destination target.")
                )
            if service.keys is not None and not service.keys.signing.private:
                raise ConfigurationError(
                    f"services: {service!r} holds only a public key; an issuer signs with the "
                    "private key (the public half is published for you)."
                )
            path = f"{prefix}/{service.name}" + ("/token" if service.fetched else "")
            if path in self._routes:
                raise ConfigurationError(
                    f"services: two services are named {service.name!r}; pass name='...' to "
                    "one of them so each has its own login path."
                )
            self._routes[path] = service
        if not self._routes:
            raise ConfigurationError("services: configure at least one service.")
        jwks = published(s.keys for s in services if s.keys is not None)
        if jwks is not None:
            self._routes[prefix + JWKS_PATH] = jwks
        self._login_url: str | None = check_login_url(login_url)
        self._clock = clock or wall_clock

    def _issue(self, target: Service | Reply, request: Request) -> Steps[None, Reply]:
        """Answer a path of ours. A login's request itself (method, origin, return URL) is
        checked before anyone is asked who the user is; then the steps yield once, and the
        skin answers with what its extractor returned (awaited on ASGI when it is async).
        The published JWKS (a fixed reply) asks nobody."""
        if isinstance(target, Reply):
            if request.method not in _SAFE_METHODS:
                return _refuse(MethodNotAllowed(), request, "jwks", _SAFE_METHODS, self._pages)
            return _for(request, target)
        service, fetched = target, target.fetched
        try:
            if request.method not in _SAFE_METHODS:
                raise MethodNotAllowed()
            if fetched and not same_origin(request, typed=True):
                raise CrossSiteRequest()  # a token is for our own pages' scripts, never another site's
            pending = service.prepare(request.query)
            principal = Principal.coerce((yield None))
            if principal is None:
                if self._login_url is None or fetched:
                    raise NotAuthenticated()
                return redirect(with_params(self._login_url, [("next", _original_url(request))]))
            reply = service.sign_in(pending, principal, self._clock())
        except SSOError as e:
            return _refuse(e, request, service.name, _SAFE_METHODS, self._pages, json=fetched)
        logger.info("issued login service=%s user=%r", service.name, principal.id)
        return _for(request, reply)


# -- verifier -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Login:
    """One accepted login, as recorded by the verifier."""

    service: str
    principal: Principal
    claims: Mapping[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class Route:
    """A request the verifier answers: which, with which methods, reading how much body."""

    action: str
    methods: tuple[str, ...]
    body_limit: int = 0


_LOGOUT = Route("logout", ("POST",))


def generic_receiver(key: KeyInput | None, path: str, placement: Placement | None,
                     algorithms: Iterable[str] | None, remote: bool = False) -> Service:
    """The generic receiver (``key=..., path=...``) as one more :class:`Service`."""
    allowed = sorted(set(algorithms or ()))
    # a bare secret is bound to one algorithm; Key objects and key pairs carry their own
    listed = [key] if isinstance(key, (str, bytes)) or not isinstance(key, Sequence) else list(key)
    bare = any(isinstance(k, (str, bytes)) and not is_pair(k) for k in listed)
    if len(allowed) > 1 and bare:
        raise ConfigurationError(
            "algorithms: a secret is bound to one algorithm; to accept several, pass "
            "key=[Key(secret, algorithm='HS256'), Key(other, algorithm='HS512')]."
        )
    if key is None and remote:
        keys = KeySet((), empty_ok=True)
    else:
        keys = KeySet.build(key, algorithm=allowed[0] if len(allowed) == 1 else None, field="key")
    destination = Destination(path=path) if placement is None else Destination(placement=placement, path=path)
    return Service(name="sso", key=keys, token=TokenRules(), destination=destination)


def default_cookie_name(service: str, path: str) -> str:
    """The session cookie's name unless one is given: one per receiver.

    >>> default_cookie_name("sso", "/sso"), default_cookie_name("sso", "/partners/sso")
    ('sso_session', 'sso_session_partners_sso')
    >>> default_cookie_name("frill", "/sso")
    'sso_session_frill'
    """
    if service != "sso":
        return f"sso_session_{service}"
    tail = re.sub(r"[^A-Za-z0-9_.-]", "_", path.strip("/"))[:52]  # the generic receiver: its path
    return "sso_session" if tail == "sso" else f"sso_session_{tail}"


class VerifierMiddleware(Generic[App]):
    """Everything the verifier middleware decides; the skins add ``__call__``.

    The token is checked fully (format, algorithm allow-list, signature, ``exp`` or a maximum
    age, maximum lifetime, ``iss``/``aud``/``typ`` when configured, required claims, identity)
    and its one-time id consumed before the session opens; the browser is then sent on with a
    303 to a same-site path, so the token leaves the URL. ``POST {path}/logout`` (same-origin
    only) ends the session. Accepted logins are recorded in ``logins``.

    :param app: the app to wrap (WSGI or ASGI, matching the skin).
    :param key: the shared secret of a generic receiver on ``path`` (or a ``Key``, a public key
        as PEM or JWK, a JWKS ``{"keys": [...]}``, or a list).
    :param jwks_url: verify with the keys published at this URL (or a
        :class:`~sso_middleware.jwks.RemoteKeys` with its own timeouts): cached, fetched again
        on an unknown ``kid`` at most every 30 s, a 503 when they cannot be fetched and no key
        held matches. Needs ``session_key``.
    :param service: receive the way this service does (``services.frill(...)``) instead.
    :param path: the generic receiver's path; logout is a same-origin ``POST {path}/logout``.
    :param placement: where a generic receiver finds the token (default ``QueryParameter("token")``).
    :param algorithms: algorithms accepted (default: the keys' own; ``none`` never).
    :param issuer: accepted ``iss`` value(s); ``None`` accepts any, as the services do.
    :param audience: required ``aud``; without one, a token carrying an ``aud`` is refused.
    :param typ: required ``typ`` header (refuses tokens minted for another direction).
    :param required_claims: claims that must be present and non-empty, beyond the service's.
    :param identity: claims naming the user, first present wins (default ``sub`` then ``id``).
    :param leeway: clock skew tolerated, 0 to 300 seconds.
    :param max_lifetime: longest validity a token may claim, in seconds.
    :param max_age: accept tokens with ``iat`` but no ``exp`` for this long.
    :param strict: standing in for a service that accepts tokens that never expire (Frill,
        Canny, UserVoice, ...), require ``exp`` (or ``iat`` within ``max_age``) all the same.
    :param replay_store: where one-time ids and revoked sessions live (default: bounded, in
        this process; share a ``RedisReplayStore`` between processes and hosts).
    :param session_key: the session cookie's key (default: derived from the login key).
    :param cookie_name: the session cookie's name (default: ``sso_session`` for the generic
        receiver on ``/sso``, else one per receiver, e.g. ``sso_session_frill``, so stacked
        verifiers never share a cookie; the same name twice in one stack is refused).
    :param session_max_age: session lifetime in seconds.
    :param default_return: same-site path to land on when the request names none.
    :param login_url: where a fresh sign-in starts (the identity provider's login path, e.g.
        ``https://app.acme.com/sso/frill``): error pages offer "Sign in again" there.
    :param error_page: ``ErrorPage -> str | None``: your own HTML for refusals; see
        :mod:`sso_middleware.pages`.
    :param on_login: called with each accepted :class:`Login`.
    :param clock: the time source (default: ``time.time``, looked up on every call, so
        ``freezegun`` and ``time-machine`` move it; tests may pass a controllable one).
    """

    _awaits: ClassVar[bool] = True

    def __init__(
        self,
        app: App,
        *,
        key: KeyInput | None = None,
        service: Service | None = None,
        jwks_url: str | RemoteKeys | None = None,
        path: str = "/sso",
        placement: Placement | None = None,
        algorithms: Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        audience: str | None = None,
        typ: str | None = None,
        required_claims: Iterable[str] = (),
        identity: Iterable[str] | None = None,
        leeway: float = 30.0,
        max_lifetime: float = 86400.0,
        max_age: float | None = None,
        strict: bool = False,
        replay_store: ReplayStore | None = None,
        session_key: str | bytes | None = None,
        cookie_name: str | None = None,
        session_max_age: int = 8 * 3600,
        default_return: str = "/",
        login_url: str | None = None,
        error_page: ErrorPageHook | None = None,
        on_login: Callable[[Login], object] | None = None,
        clock: Clock | None = None,
    ) -> None:
        owner = type(self).__name__
        check_app(app, asgi=self._awaits, owner=owner)
        path = check_prefix(path, "path")
        remote = jwks_url if isinstance(jwks_url, RemoteKeys) or jwks_url is None else RemoteKeys(
            jwks_url, algorithms=algorithms)
        if remote is not None and key is not None:
            raise ConfigurationError("pass key=... or jwks_url=..., not both: the keys come from one place.")
        if service is None:
            service = generic_receiver(key, path, placement, algorithms, remote=remote is not None)
        elif key is not None or placement is not None:
            raise ConfigurationError(
                "pass key=... or service=..., not both: a service brings its own key and placement."
            )
        elif not isinstance(service, Service):
            raise ConfigurationError(f"service: {service!r} is not a Service.")
        if safe_relative_path(default_return) is None:
            raise ConfigurationError(
                f"default_return {default_return!r}: use a same-site path such as '/'."
            )
        check_login_url(login_url)
        self._pages = (ErrorPages(error_page, again=login_url, label="Sign in again") if login_url
                       else ErrorPages(error_page, again=default_return, label="Continue"))
        if replay_store is not None and not isinstance(replay_store, ReplayStore):
            raise ConfigurationError(
                "replay_store: pass a MemoryReplayStore or RedisReplayStore (or an object with "
                "the ReplayStore methods, sync and async)."
            )
        if replay_store is not None and replay_store.asynchronous and not self._awaits:
            raise ConfigurationError(
                f"replay_store: {type(self).__name__} is WSGI and cannot await a redis.asyncio "
                "client; pass a redis.Redis client (or use sso_middleware.asgi)."
            )
        self._remote = remote
        self._algorithms = frozenset(algorithms) if algorithms is not None else None
        self._policy = service.receiving_policy(
            algorithms=algorithms, leeway=leeway, max_lifetime=max_lifetime, max_age=max_age,
            strict=strict, issuer=issuer, audience=audience, typ=typ, required_claims=required_claims,
            identity=identity, keys=KeySet((), empty_ok=True) if remote is not None else None,
        )
        keys = self._policy.keys
        if self._policy.expiry_optional:
            logger.warning(
                "standing in for %s: tokens without exp are accepted, as %s accepts them; "
                "pass strict=True to require exp", service.name, service.name,
            )
        if session_key is None and not any(k.private for k in keys.keys[:1]):
            raise ConfigurationError(
                "session_key: this verifier holds only public keys (or fetches them from "
                "jwks_url), and nothing secret can be derived from a public key. Pass "
                "session_key=... (a random secret of 32+ bytes, the same on every process)."
            )
        secret = session_key if session_key is not None else keys.signing.derive("session")
        as_bytes = secret.encode("utf-8") if isinstance(secret, str) else secret
        if any(as_bytes == login.secret for login in keys.keys):
            raise ConfigurationError(
                "session_key: it equals a login key, so a session cookie would verify as a login "
                "token (and sessions would renew for ever). Use a separate secret, or leave it out."
            )
        if cookie_name is None:
            cookie_name = default_cookie_name(service.name, path)
        for inner in wrapped(app):
            if isinstance(inner, VerifierMiddleware) and inner._sessions.cookie_name == cookie_name:
                raise ConfigurationError(
                    f"cookie_name: the {inner._service!r} verifier inside this one already uses "
                    f"the cookie {cookie_name!r}; each would clear the other's session. Give each "
                    "VerifierMiddleware its own cookie_name=... (or leave both out)."
                )
        self._sessions: Sessions = Sessions(Key(secret, field="session_key"), cookie_name=cookie_name,
                                            max_age=session_max_age)
        self.app = app
        self.logins: deque[Login] = deque(maxlen=1000)
        """Accepted logins, oldest first (the last 1,000; for tests)."""
        self._service: str = service.name
        self._placement = service.destination.placement
        # a placement that starts its own round trips (Discourse Connect) needs somewhere to start
        self._round_trip = self._placement if isinstance(self._placement, SignedPayload) else None
        if self._round_trip is not None and self._round_trip.provider is None:
            raise ConfigurationError(
                f"service {service.name!r}: a receiver starts each sign-in at the provider; give "
                "SignedPayload(provider='https://app.acme.com/sso/discourse') (services.discourse "
                "does, from url= or provider=)."
            )
        if self._round_trip is not None and remote is not None:
            raise ConfigurationError(f"service {service.name!r} signs with its shared secret: no jwks_url.")
        self._nonce_key = keys.signing.derive("round-trip nonce") if self._round_trip is not None else b""
        self._listen = service.destination.listen
        self._logout_path = f"{path}/logout"
        exact = self._placement.exact(self._listen)
        self._paths: frozenset[str] | None = (
            frozenset({self._logout_path, self._listen or ""}) if exact else None)
        """Every path this verifier answers, when it answers exact paths only (a skin's pre-check)."""
        self._login = Route("login", self._placement.methods, self._placement.body_limit)
        self._replay_store: ReplayStore = replay_store if replay_store is not None else MemoryReplayStore()
        # our own in-memory store (not a subclass, which may fail) is asked directly for sessions
        self._in_memory = type(self._replay_store) is MemoryReplayStore
        # a memory store answers at once (no coroutine per call); a JWKS fetch never does
        self._inline = isinstance(self._replay_store, MemoryReplayStore) and remote is None
        self._default_return = default_return
        # a service that hands back a same-site path (Help Scout's returnTo) lands there
        returns = service.returns
        forwarded = (returns.forward_as,) if returns.relative and returns.forward_as else ()
        self._return_params = ("next", "redirect", *forwarded)
        self._on_login = on_login
        self._clock = clock or wall_clock

    def _route(self, method: str, path: str, query: str | bytes) -> Route | None:
        """Is this request ours? Cheap: string compares only (the query, bytes from an ASGI
        scope, is decoded only for a placement that looks at it)."""
        if path == self._logout_path:
            return _LOGOUT
        if self._paths is not None:
            return self._login if path == self._listen else None
        text = query if isinstance(query, str) else query.decode("latin-1")
        return self._login if self._placement.matches(self._listen, path, text) else None

    # Every answer that needs the replay store is written once, as steps that yield each
    # StoreCall: _run makes the calls (WSGI), _arun awaits them (ASGI).

    def _run(self, steps: Steps[StoreCall, T]) -> T:
        store = self._replay_store
        return drive(steps, lambda call: getattr(call.on or store, call.method)(*call.args))

    async def _arun(self, steps: Steps[StoreCall, T]) -> T:
        if self._inline:  # the in-memory store answers at once: no coroutine per call
            return self._run(steps)
        store = self._replay_store

        def send(call: StoreCall) -> Awaitable[Any]:
            return getattr(call.on or store, "a" + call.method)(*call.args)  # type: ignore[no-any-return]

        return await adrive(steps, send)

    def _answer(self, route: Route, request: Request) -> Steps[StoreCall, Reply]:
        """Answer a login or logout; every failure becomes its error page (no cookie, no token)."""
        try:
            if request.method not in route.methods:
                raise MethodNotAllowed(f"This address only accepts {' or '.join(route.methods)}.")
            if len(request.body) > route.body_limit:
                raise TokenTooLarge()
            if route.action == "logout":
                return (yield from self._sign_out(request))
            return (yield from self._sign_in(request))
        except SSOError as e:
            return _refuse(e, request, self._service, route.methods, self._pages)

    def _sign_in(self, request: Request) -> Steps[StoreCall, Reply]:
        token = self._placement.extract(self._listen, request)
        trip = self._round_trip
        if not token:
            if trip is not None:  # Discourse: a visit without an answer begins the round trip
                return self._start(trip, request)
            page = self._placement.without_token(request)  # a fragment's bridge page
            if page is not None:
                return _for(request, page)
            raise TokenMissing()
        landing = self._return_path(request)
        now = self._clock()
        policy = self._policy if self._remote is None else (yield from self._fetched_policy(token, now))
        verified = self._placement.verify(token, policy, now)
        if trip is not None:  # the nonce cookie stays: this browser's answer, again, continues
            verified = self._own_nonce(trip, verified, request, now)
        once = self._once(verified)
        source = digest(once).hex()[:22]
        try:
            yield from self._consume(once, verified.expires, now)
        except TokenReplayed:
            # the browser went back to, or reloaded, the very login that opened its session
            session, _ = self._sessions.read(request.header("cookie") or "", now, self._view, request.secure)
            if session is None or session.source != source:
                raise
            logger.info("continued session service=%s (its own login token, presented again)", self._service)
            return redirect(landing)
        principal = Principal.from_claims(verified.subject, verified.claims)
        cookie = self._sessions.open(principal, self._service, now, request.secure, source)
        record = Login(self._service, principal, verified.claims, now)
        self.logins.append(record)
        logger.info("accepted login service=%s user=%r", self._service, principal.id)
        if self._on_login is not None:
            self._on_login(record)
        return redirect(landing, ("Set-Cookie", cookie))

    def _fetched_policy(self, token: str, now: float) -> Steps[StoreCall, TokenPolicy]:
        """The policy with the JWKS URL's keys, fetched first when they are old or lack the
        token's ``kid`` (at most every ``refresh_every`` seconds). Fails closed: a 503 when the
        keys cannot be fetched and none held matches."""
        remote = self._remote
        if remote is None:  # (only called with one)
            return self._policy
        kid = named_kid(token)
        if remote.due(kid, now):
            try:
                yield StoreCall("refresh", (kid, now), remote)
            except Exception as e:  # refresh logs its own failures; this is anything else
                logger.warning("JWKS refresh raised %s", type(e).__name__)
        keys = remote.keys
        if keys is None or (remote.failed and not keys.candidates(kid)):
            raise KeysUnavailable(detail=f"the JWKS at {remote.url} could not be fetched")
        if self._policy.keys is not keys:  # new keys: the same rules, rebuilt once per fetch
            self._policy = replace(self._policy, keys=keys, algorithms=self._algorithms)
        return self._policy

    def _start(self, placement: SignedPayload, request: Request) -> Reply:
        """Begin a round trip (Discourse Connect): a fresh nonce, bound to this browser by a
        cookie, signed with ``return_sso_url`` (this address, with a same-site ``next``)."""
        host = request.header("host")
        if placement.provider is None or not host:  # (the provider was checked when built)
            raise BadRequest()
        now = self._clock()
        nonce = placement.new_nonce(self._nonce_key, now)
        back = f"{'https' if request.secure else 'http'}://{host}{request.root}{self._listen}"
        after = safe_relative_path(parse_query(request.query, ("next",)).get("next"))
        if after is not None:
            back = with_params(back, [("next", after)])
        signed = placement.encode({"nonce": nonce, "return_sso_url": back}, self._policy.keys.signing, None)
        cookie = self._sessions.pending(nonce, int(NONCE_LIFETIME), request.secure)
        logger.info("started round trip service=%s", self._service)
        reply = placement.deliver(placement.provider, signed, ())
        return replace(reply, headers=(*reply.headers, ("Set-Cookie", cookie)))

    def _own_nonce(self, placement: SignedPayload, verified: Verified, request: Request,
                   now: float) -> Verified:
        """The answer's nonce must be one this receiver issued, to this very browser, within
        10 minutes (its one-time use is then claimed like any token's)."""
        expires = placement.check_nonce(str(verified.once), self._nonce_key, now)
        mine = self._sessions.pending_nonce(request.header("cookie") or "", request.secure)
        if mine is None or not same_secret(mine, str(verified.once)):
            raise InvalidClaim("nonce")
        return verified._replace(expires=expires)

    def _once(self, verified: Verified) -> str:
        """The token's one-time name: keyed on the claims, never on its spelling (SECURITY.md)."""
        iss = verified.claims.get("iss")
        return f"{self._service}\x1f{iss if isinstance(iss, str) else ''}\x1f{verified.once}"

    def _consume(self, once: str, expires: float, now: float) -> Steps[StoreCall, None]:
        first = yield from _store(StoreCall("claim", (once, expires + self._policy.leeway, now)))
        if not first:
            raise TokenReplayed()

    def _sign_out(self, request: Request) -> Steps[StoreCall, Reply]:
        """End the session: its id is revoked in the replay store until it expires (so a copy
        of the cookie is refused on every host sharing the store), then the cookie is cleared."""
        if not same_origin(request, typed=True):  # typed: the person's own navigation signs out
            raise SignOutRefused()
        clear = ("Set-Cookie", self._sessions.close(request.secure))
        now = self._clock()
        session, _ = self._sessions.read(request.header("cookie") or "", now, self._view, request.secure)
        if session is not None:
            call = StoreCall("revoke", (session.user, session.sid, session.expires, session.expires, now))
            try:
                yield from _store(call)
            except ReplayStoreUnavailable as e:  # this browser is signed out; the session is not
                refusal = _refuse(e, request, self._service, _LOGOUT.methods, self._pages)
                return replace(refusal, headers=(*refusal.headers, clear))
            logger.info("ended session service=%s", self._service)
        return redirect(self._default_return, clear)

    def _sign_out_everywhere(self, user_id: object) -> Steps[StoreCall, None]:
        """Refuse every session of ``user_id`` opened until now, on every host sharing the store."""
        now = self._clock()
        user = user_key(self._service, user_id)
        yield from _store(StoreCall("revoke", (user, None, now, now + self._sessions.max_age, now)))
        logger.info("ended every session service=%s user=%r", self._service, user_id)

    def _return_path(self, request: Request) -> str:
        """Where the browser lands after sign-in: always a same-site path."""
        if self._listen is None:  # back to the page itself, minus the token
            page = without_params(_original_url(request), [self._placement.param])
            return safe_relative_path(page) or self._default_return
        try:
            params = parse_query(request.query, self._return_params)
        except BadRequest:
            return self._default_return
        for name in self._return_params:
            safe = safe_relative_path(params.get(name))
            if safe is not None:
                return safe
        return self._default_return

    def _view(self, principal: Principal) -> Any:
        """What the skin hands its app for a session (cached per session, so immutable)."""
        return principal

    def _session(self, cookie_header: str, secure: bool) -> Steps[StoreCall, tuple[Any, str | None]]:
        """The session's user (as ``_view`` makes it), and a ``Set-Cookie`` clearing a bad or
        revoked cookie. When the store cannot say whether the session was revoked, the request
        goes on without a user (nothing is trusted, and the cookie is kept for later)."""
        now = self._clock()
        session, sent = self._sessions.read(cookie_header, now, self._view, secure)
        if session is None:
            return None, self._sessions.close(secure) if sent else None
        try:
            revoked = yield from _store(StoreCall("revoked", (session.user, session.sid, now)))
        except ReplayStoreUnavailable as e:
            _log_refusal(self._service, e)
            return None, None
        if revoked >= session.opened:
            return self._revoked(secure)
        return session.view, None

    def _session_in_memory(self, cookie_header: str | bytes, secure: bool) -> tuple[Any, str | None]:
        """:meth:`_session` when the store is this process's memory, which answers at once and
        cannot fail: no steps to drive on every signed-in request."""
        now = self._clock()
        session, sent = self._sessions.read(cookie_header, now, self._view, secure)
        if session is None:
            return None, self._sessions.close(secure) if sent else None
        if self._replay_store.revoked(session.user, session.sid, now) >= session.opened:
            return self._revoked(secure)
        return session.view, None

    def _revoked(self, secure: bool) -> tuple[None, str]:
        _log_refusal(self._service, SessionRevoked())
        return None, self._sessions.close(secure)


class StoreCall(NamedTuple):
    """A call the verifier's steps need from outside: ``method`` of the
    :class:`~sso_middleware.replay.ReplayStore` protocol, or of ``on`` when given (the JWKS
    fetcher), ``"a" + method`` when awaited. A named tuple: one is made on every signed-in
    request."""

    method: str
    args: tuple[Any, ...]
    on: Any = None


def _store(call: StoreCall) -> Steps[StoreCall, Any]:
    """Make ``call``; a store that fails in any way fails closed (503)."""
    try:
        return (yield call)
    except SSOError:
        raise
    except Exception as e:
        raise ReplayStoreUnavailable(detail=f"the store raised {type(e).__name__}") from e


__all__ = [
    "IssuerMiddleware",
    "Login",
    "Route",
    "StoreCall",
    "VerifierMiddleware",
    "check_prefix",
    "default_cookie_name",
    "generic_receiver",
    "wall_clock",
]
