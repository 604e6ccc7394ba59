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
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from .confirm import Confirm
from .errors import (
    BadRequest,
    ConfigurationError,
    CrossSiteRequest,
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
from .keys import KeyInput
from .messages import Reply, Request, own_path, parse_query, redirect, same_origin
from .pages import ErrorPageHook, ErrorPages
from .placements import Placement
from .principal import Principal
from .receiving import LOGOUT, Clock, Login, Receiver, Route, check_login_url, check_prefix, wall_clock
from .receiving import default_cookie_name as default_cookie_name
from .receiving import generic_receiver as generic_receiver
from .redirects import safe_relative_path, with_params, without_params
from .replay import ReplayStore, digest
from .service import Service
from .session import user_key
from .steps import Steps, adrive, drive
from .tokens import TokenPolicy, Verified, named_kid
from .wiring import check_app, check_extractor, check_hook, check_routed

if TYPE_CHECKING:  # the provider needs Authlib (an optional extra): imported only by its users
    from .oidc import Endpoint, OpenIDProvider

logger = logging.getLogger("sso_middleware")

App = TypeVar("App")
T = TypeVar("T")
_SAFE_METHODS = ("GET", "HEAD")


def _original_url(request: Request) -> str:
    """The URL a request was made to (root path included), for a ``next`` parameter."""
    url = own_path(request)
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


def _issuing(service: object) -> Service:
    """``service`` if an issuer can sign with it, else the reason it cannot."""
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
    return service


def issuer_routes(services: Iterable[Service], prefix: str) -> dict[str, Service | Reply]:
    """Each service's login path (``{prefix}/{name}``, ``/token`` after it for a service whose
    page fetches its token, or beside it for a widget's); two services on one path are refused."""
    routes: dict[str, Service | Reply] = {}
    for service in map(_issuing, services):
        for path, target in service.login_paths(prefix).items():
            if path in routes:
                raise ConfigurationError(
                    f"services: two services are named {service.name!r}; pass name='...' to "
                    "one of them so each has its own login path."
                )
            routes[path] = target
    return routes


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
    :param openid: an :class:`~sso_middleware.oidc.OpenIDProvider`: OpenID Connect provider
        mode, its endpoints below ``prefix`` and its keys in the JWKS (see ``sso_middleware.oidc``).
    """

    _awaits: ClassVar[bool] = True
    """Whether the skin can await (an async extractor, an asyncio replay store)."""
    _routed: ClassVar[bool] = False
    """Whether a framework route hands this middleware its paths (Litestar's ``issuer_plugin``
    adds one); without one, a middleware Litestar builds for its routes is refused."""

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
        openid: OpenIDProvider | None = None,
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
        services = list(services)
        self._routes: dict[str, Service | Reply | Endpoint] = {**issuer_routes(services, prefix)}
        if not self._routes and openid is None:
            raise ConfigurationError("services: configure at least one service.")
        jwks = published([*(s.keys for s in services if s.keys is not None),
                          *([openid.keys] if openid is not None else [])])
        if jwks is not None:
            self._routes[prefix + JWKS_PATH] = jwks
        self._login_url: str | None = check_login_url(login_url)
        self._clock = clock or wall_clock
        self.openid = openid  # (sso-middleware check reads the provider's configuration)
        if openid is not None:  # OpenID Connect provider mode: its endpoints join the login paths
            check_hook(openid.end_session, asgi=self._awaits, owner=owner, name="end_session")
            self._routes.update(openid.routes(prefix, login_url=self._login_url, error_page=error_page,
                                              clock=self._clock))
        if not self._routed:
            check_routed(app, owner=owner, role="issuer", paths=self._routes)

    @property
    def login_paths(self) -> dict[str, Service]:
        """Each login path and the service it signs for (``{prefix}/{name}``, or
        ``{prefix}/{name}/token`` for a service whose page fetches its token)."""
        return {path: s for path, s in self._routes.items() if isinstance(s, Service)}

    def _issue(self, target: Service | Reply | Endpoint, request: Request) -> Steps[Any, Reply]:
        """Answer a path of ours. A login's request itself (method, origin, return URL) is
        checked before anyone is asked who the user is; then the steps yield once, and the
        skin answers with what its extractor returned (awaited on ASGI when it is async).
        The published JWKS (a fixed reply) asks nobody."""
        if not isinstance(target, (Service, Reply)):  # an OpenID Connect endpoint: its own steps
            return (yield from target.answer(request))
        if isinstance(target, Reply):
            if request.method not in _SAFE_METHODS:
                return _refuse(MethodNotAllowed(), request, "jwks", _SAFE_METHODS, self._pages)
            return _for(request, target)
        service = target.answering(request.query)  # Metabase's SDK asks for JSON on the login path
        fetched = service.fetched
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
    :param confirm: ``True`` (or a :class:`~sso_middleware.confirm.Confirm` with your own page):
        emailed sign-in links that survive mail scanners. A link's ``GET`` checks the token
        without consuming it and answers a page whose button POSTs it back (same-origin only);
        only that POST signs in. Needs the token in a query parameter on a path of its own.
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
        confirm: bool | Confirm = False,
    ) -> None:
        owner = type(self).__name__
        check_app(app, asgi=self._awaits, owner=owner)
        self.receiver: Receiver = Receiver.build(
            app=app, owner=owner, awaits=self._awaits, key=key, service=service, jwks_url=jwks_url,
            path=path, placement=placement, algorithms=algorithms, issuer=issuer, audience=audience,
            typ=typ, required_claims=required_claims, identity=identity, leeway=leeway,
            max_lifetime=max_lifetime, max_age=max_age, strict=strict, replay_store=replay_store,
            session_key=session_key, cookie_name=cookie_name, session_max_age=session_max_age,
            default_return=default_return, login_url=login_url, error_page=error_page,
            on_login=on_login, clock=clock, confirm=confirm,
        )
        """The configuration, checked and precomputed (:class:`~sso_middleware.receiving.Receiver`)."""
        check_routed(app, owner=owner, role="verifier",
                     paths=(self.receiver.listen or "", self.receiver.logout_path))
        self.app = app
        self.logins: deque[Login] = deque(maxlen=1000)
        """Accepted logins, oldest first (the last 1,000; for tests)."""
        self._adopt(self.receiver)

    def _adopt(self, receiver: Receiver) -> None:
        """Copies of what every request reads, one attribute lookup each (the pass-through and
        the signed-in request are the hot paths); ``_policy`` takes a JWKS URL's fetched keys."""
        self._service = receiver.service
        self._placement = receiver.placement
        self._listen = receiver.listen
        self._logout_path = receiver.logout_path
        self._paths = receiver.paths
        self._watch = receiver.paths if receiver.paths is not None else _EVERY_PATH
        self._login = receiver.login
        self._policy = receiver.policy
        self._sessions = receiver.sessions
        self._replay_store = receiver.replay_store
        self._in_memory = receiver.in_memory
        self._inline = receiver.inline
        self._pages = receiver.pages
        self._remote = receiver.remote
        self._clock = receiver.clock

    @property
    def _nonce_key(self) -> bytes:
        """The key a round trip's nonces are made with (tests mint answers with it)."""
        return self.receiver.trip.derive("round-trip nonce")

    def _route(self, method: str, path: str, query: str | bytes) -> Route | None:
        """Is this request ours? Cheap: string compares only (the query, bytes from an ASGI
        scope, is decoded only for a placement that looks at it)."""
        if path == self._logout_path:
            return LOGOUT
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
        """Extract, verify, check the round trip, consume the one-time id, open the session: the
        same for every placement. A visit without a token is the placement's to answer (the
        start of its round trip), or refused."""
        placement, trip = self._placement, self.receiver.trip
        token = placement.extract(self._listen, request)
        if not token:
            started = placement.start(request, trip, self._clock())
            if started is None:
                raise TokenMissing()
            return _for(request, started)
        landing = self._return_path(request)
        now = self._clock()
        policy = self._policy if self._remote is None else (yield from self._fetched_policy(token, now))
        verified = placement.check(placement.verify(token, policy, now), request, trip, now)
        once = self._once(verified)
        source = digest(once).hex()[:22]
        held = placement.hold(verified, request, trip, now)  # a confirm page: nothing consumed yet
        try:
            if held is not None:
                yield from self._unused(once, now)
                return _for(request, held)
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
        if self.receiver.on_login is not None:
            self.receiver.on_login(record)
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
            self._policy = replace(self._policy, keys=keys, algorithms=self.receiver.algorithms)
        return self._policy

    def _once(self, verified: Verified) -> str:
        """The token's one-time name: keyed on the claims, never on its spelling (SECURITY.md)."""
        iss = verified.claims.get("iss")
        return f"{self._service}\x1f{iss if isinstance(iss, str) else ''}\x1f{verified.once}"

    def _unused(self, once: str, now: float) -> Steps[StoreCall, None]:
        """Refuse a held token already used, when the store can tell without writing (its
        optional ``used`` method); a store without one lets the consuming request refuse it."""
        if hasattr(self._replay_store, "used") and (yield from _store(StoreCall("used", (once, now)))):
            raise TokenReplayed()

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
                refusal = _refuse(e, request, self._service, LOGOUT.methods, self._pages)
                return replace(refusal, headers=(*refusal.headers, clear))
            logger.info("ended session service=%s", self._service)
        return redirect(self.receiver.default_return, clear)

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
            return safe_relative_path(page) or self.receiver.default_return
        try:
            params = parse_query(request.query, self.receiver.return_params)
        except BadRequest:
            return self.receiver.default_return
        for name in self.receiver.return_params:
            safe = safe_relative_path(params.get(name))
            if safe is not None:
                return safe
        return self.receiver.default_return

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


class _EveryPath:
    """What a verifier whose placement reads every request's query watches: every path (so the
    skins' first test, ``path in self._watch``, is one set lookup for every other verifier)."""

    __slots__ = ()

    def __contains__(self, path: object) -> bool:
        return True


_EVERY_PATH = _EveryPath()


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
