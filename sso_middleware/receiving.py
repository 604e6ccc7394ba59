"""The verifier's configuration as a value: a frozen :class:`Receiver`, built once in named steps.

``VerifierMiddleware(app, **options)`` checks the app and hands its options to
:meth:`Receiver.build`, which turns them into data in a few small steps, each
with its own checks (the shape of Starlette's ``CORSMiddleware``: ``__init__``
precomputes, ``__call__`` only dispatches):

1. :func:`receiving_service`: the keys, from ``key=``, ``service=`` or ``jwks_url=``;
2. :func:`error_pages`: where a refused visitor goes on (``default_return``, ``login_url``);
3. :func:`checked_store`: where one-time ids live, and whether this skin can call it;
4. :func:`token_policy`: what a token must be to be accepted;
5. :func:`session_signing_key`: the session cookie's own key, never a login key;
6. :func:`session_cookie_name`: one cookie per receiver, refused when a stacked verifier has it;
7. the placement's own readiness (a round trip needs somewhere to start), and with ``confirm=``
   the confirm step (:func:`~sso_middleware.confirm.confirming`).

A receiver is readable (``verifier.receiver``): ``sso-middleware check`` and the
stacked-verifier check read it, not the middleware's insides.

>>> receiver = Receiver.build(key="a-secret-of-at-least-thirty-two-bytes!")
>>> receiver.service, receiver.listen, receiver.sessions.cookie_name, receiver.logout_path
('sso', '/sso', 'sso_session', '/sso/logout')
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .confirm import Confirm, confirming
from .errors import ConfigurationError
from .jwks import RemoteKeys
from .keys import Key, KeyInput, KeySet, is_pair
from .pages import ErrorPageHook, ErrorPages
from .placements import Placement
from .principal import Principal
from .redirects import absolute_url, safe_relative_path
from .replay import MemoryReplayStore, ReplayStore
from .service import Destination, Service, TokenRules
from .session import Sessions, Trip
from .tokens import TokenPolicy
from .wiring import wrapped

logger = logging.getLogger("sso_middleware")

Clock = Callable[[], float]


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


LOGOUT = Route("logout", ("POST",))


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


# -- the steps ------------------------------------------------------------------------------------


def receiving_service(key: KeyInput | None, service: Service | None, jwks_url: str | RemoteKeys | None,
                      path: str, placement: Placement | None,
                      algorithms: Iterable[str] | None) -> tuple[Service, RemoteKeys | None]:
    """Step 1, the keys: the service received as (the generic one on ``path`` unless ``service=``)
    and the JWKS URL's keys when the keys come from there. One source of keys only."""
    remote = jwks_url if isinstance(jwks_url, RemoteKeys) or jwks_url is None else RemoteKeys(
        jwks_url, algorithms=algorithms)
    if remote is not None and key is not None:
        raise ConfigurationError("pass key=... or jwks_url=..., not both: the keys come from one place.")
    if service is None:
        return generic_receiver(key, path, placement, algorithms, remote=remote is not None), remote
    if key is not None or placement is not None:
        raise ConfigurationError(
            "pass key=... or service=..., not both: a service brings its own key and placement."
        )
    if not isinstance(service, Service):
        raise ConfigurationError(f"service: {service!r} is not a Service.")
    return service, remote


def error_pages(error_page: ErrorPageHook | None, default_return: str, login_url: str | None) -> ErrorPages:
    """Step 2: the refusal pages, whose link starts a fresh sign-in (``login_url``) or continues
    to ``default_return`` (a same-site path, also where a login lands when it names none)."""
    if safe_relative_path(default_return) is None:
        raise ConfigurationError(
            f"default_return {default_return!r}: use a same-site path such as '/'."
        )
    check_login_url(login_url)
    if login_url:
        return ErrorPages(error_page, again=login_url, label="Sign in again")
    return ErrorPages(error_page, again=default_return, label="Continue")


def checked_store(store: ReplayStore | None, *, awaits: bool, owner: str) -> ReplayStore:
    """Step 3: where one-time ids and revoked sessions live (default: this process's memory);
    an asyncio client only where the skin can await it."""
    if store is None:
        return MemoryReplayStore()
    if not isinstance(store, ReplayStore):
        raise ConfigurationError(
            "replay_store: pass a MemoryReplayStore or RedisReplayStore (or an object with "
            "the ReplayStore methods, sync and async)."
        )
    if store.asynchronous and not awaits:
        raise ConfigurationError(
            f"replay_store: {owner} is WSGI and cannot await a redis.asyncio "
            "client; pass a redis.Redis client (or use sso_middleware.asgi)."
        )
    return store


def token_policy(service: Service, remote: RemoteKeys | None, **options: Any) -> TokenPolicy:
    """Step 4: what a token must be (the service's rules, adjusted by the verifier's options of
    the same names); a stand-in for a service that accepts tokens without ``exp`` says so once."""
    keys = KeySet((), empty_ok=True) if remote is not None else None
    policy = service.receiving_policy(keys=keys, **options)
    if policy.expiry_optional:
        logger.warning(
            "standing in for %s: tokens without exp are accepted, as %s accepts them; "
            "pass strict=True to require exp", service.name, service.name,
        )
    return policy


def session_signing_key(given: str | bytes | None, keys: KeySet) -> Key:
    """Step 5: the session cookie's key: ``given``, or derived from the login key for this
    purpose only; never a login key itself (a session cookie would verify as a login token)."""
    if given is None and not any(k.private for k in keys.keys[:1]):
        raise ConfigurationError(
            "session_key: this verifier holds only public keys (or fetches them from "
            "jwks_url), and nothing secret can be derived from a public key. Pass "
            "session_key=... (a random secret of 32+ bytes, the same on every process)."
        )
    secret = given if given is not None else keys.signing.derive("session")
    as_bytes = secret.encode("utf-8") if isinstance(secret, str) else secret
    if any(as_bytes == login.secret for login in keys.keys):
        raise ConfigurationError(
            "session_key: it equals a login key, so a session cookie would verify as a login "
            "token (and sessions would renew for ever). Use a separate secret, or leave it out."
        )
    return Key(secret, field="session_key")


def session_cookie_name(given: str | None, service: str, path: str, app: object) -> str:
    """Step 6: the session cookie's name (one per receiver unless given), refused when a
    verifier stacked inside ``app`` already uses it: each would clear the other's session."""
    name = given if given is not None else default_cookie_name(service, path)
    for inner in wrapped(app):
        other = getattr(inner, "receiver", None)
        if isinstance(other, Receiver) and other.sessions.cookie_name == name:
            raise ConfigurationError(
                f"cookie_name: the {other.service!r} verifier inside this one already uses "
                f"the cookie {name!r}; each would clear the other's session. Give each "
                "VerifierMiddleware its own cookie_name=... (or leave both out)."
            )
    return name


# -- the value ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receiver:
    """A verifier's whole configuration, checked and precomputed: what it listens on, the
    rules a token must meet, its session cookie, its error pages and its replay store.

    Built by :meth:`build` from the ``VerifierMiddleware`` options (same names, same
    defaults; see :class:`sso_middleware.flows.VerifierMiddleware`); every mistake is a
    :class:`~sso_middleware.ConfigurationError` there, never on a request. Read it as
    ``verifier.receiver``.

    >>> from sso_middleware import services
    >>> frill = services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])
    >>> receiver = Receiver.build(service=frill, strict=True)
    >>> receiver.service, receiver.listen, receiver.sessions.cookie_name
    ('frill', None, 'sso_session_frill')
    """

    service: str
    """The service received as (``"sso"`` for the generic receiver)."""
    placement: Placement
    listen: str | None
    """The path a login arrives on (``None``: any page whose query carries the token)."""
    logout_path: str
    paths: frozenset[str] | None
    """Every path this receiver answers, when it answers exact paths only (a skin's pre-check)."""
    login: Route
    policy: TokenPolicy
    """The token rules (for a JWKS verifier, with the keys held when it was built: none)."""
    algorithms: frozenset[str] | None
    remote: RemoteKeys | None
    sessions: Sessions
    trip: Trip
    """What the placement's round trip may use (see :class:`~sso_middleware.session.Trip`)."""
    pages: ErrorPages
    replay_store: ReplayStore
    in_memory: bool
    """The store is our own in-memory one (not a subclass, which may fail): asked directly."""
    inline: bool
    """Every call answers at once (a memory store, no JWKS fetch): no coroutine per call."""
    default_return: str
    return_params: tuple[str, ...]
    on_login: Callable[[Login], object] | None
    clock: Clock

    @classmethod
    def build(
        cls,
        *,
        app: object = None,
        owner: str = "VerifierMiddleware",
        awaits: bool = False,
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
    ) -> Receiver:
        """The receiver the ``VerifierMiddleware`` options describe (``app``: the app it wraps,
        for the stacked-verifier check; ``owner``/``awaits``: the skin's class and whether it
        can await)."""
        path = check_prefix(path, "path")
        found, remote = receiving_service(key, service, jwks_url, path, placement, algorithms)
        pages = error_pages(error_page, default_return, login_url)
        store = checked_store(replay_store, awaits=awaits, owner=owner)
        policy = token_policy(
            found, remote, algorithms=algorithms, leeway=leeway, max_lifetime=max_lifetime,
            max_age=max_age, strict=strict, issuer=issuer, audience=audience, typ=typ,
            required_claims=required_claims, identity=identity)
        sessions = Sessions(session_signing_key(session_key, policy.keys),
                            cookie_name=session_cookie_name(cookie_name, found.name, path, app),
                            max_age=session_max_age)
        listen = found.destination.listen
        where = confirmed_placement(found, listen, confirm)
        where.ready(f"service {found.name!r}", remote=remote is not None)
        clock = clock or wall_clock
        return cls(
            service=found.name, placement=where, listen=listen, logout_path=f"{path}/logout",
            paths=frozenset({f"{path}/logout", listen or ""}) if where.exact(listen) else None,
            login=Route("login", where.methods, where.body_limit), policy=policy,
            algorithms=frozenset(algorithms) if algorithms is not None else None, remote=remote,
            sessions=sessions, trip=Trip(found.name, listen, policy.keys, sessions, clock), pages=pages,
            replay_store=store, in_memory=type(store) is MemoryReplayStore,
            inline=isinstance(store, MemoryReplayStore) and remote is None,
            default_return=default_return, return_params=_return_params(found),
            on_login=on_login, clock=clock,
        )


def confirmed_placement(service: Service, listen: str | None, confirm: bool | Confirm) -> Placement:
    """Step 7, the placement: the service's own, or with ``confirm=`` its confirm step, which
    needs a path of its own (the page posts back to it, not to any page of the app)."""
    where = confirming(service.destination.placement, confirm)
    if isinstance(where, Confirm) and listen is None:
        raise ConfigurationError(
            f"confirm: {service.name!r} accepts its token on any page, and a confirm page needs one "
            "path to post back to; use the generic receiver (key=..., path=...) for emailed links."
        )
    return where


def _return_params(service: Service) -> tuple[str, ...]:
    """The query parameters a login's landing page may come in: a service that hands back a
    same-site path (Help Scout's ``returnTo``) lands there."""
    returns = service.returns
    forwarded = (returns.forward_as,) if returns.relative and returns.forward_as else ()
    return ("next", "redirect", *forwarded)


__all__ = [
    "LOGOUT",
    "Login",
    "Receiver",
    "Route",
    "check_login_url",
    "check_prefix",
    "checked_store",
    "confirmed_placement",
    "default_cookie_name",
    "error_pages",
    "generic_receiver",
    "receiving_service",
    "session_cookie_name",
    "session_signing_key",
    "token_policy",
    "wall_clock",
]
