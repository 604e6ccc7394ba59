"""Framework-free request handling: plain values in, a :class:`Reply` (or nothing) out.

The WSGI and ASGI skins only translate their protocol to these calls and the
replies back, so both behave identically.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar
from urllib.parse import parse_qsl, quote

from .errors import (
    BadRequest,
    ConfigurationError,
    InvalidClaim,
    MethodNotAllowed,
    MissingTokenClaim,
    NotAuthenticated,
    RedirectMissing,
    ReplayStoreUnavailable,
    RequestError,
    SSOError,
    TokenMissing,
    TokenReplayed,
)
from .keys import Key, KeyInput, KeySet
from .principal import Principal
from .redirects import safe_relative_path, with_params, without_params
from .replay import MemoryReplayStore, ReplayStore
from .responses import Reply, error, post_form, redirect
from .services import Service
from .session import Sessions
from .tokens import TokenPolicy, sign, verify

if TYPE_CHECKING:
    from typing_extensions import Required

logger = logging.getLogger("sso_middleware")

Clock = Callable[[], float]
T = TypeVar("T")
_MAX_ECHO = 512
_MAX_QUERY = 8 * 1024
_PATH_SEGMENT = frozenset("/?#")


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


def parse_query(query: str, names: Iterable[str]) -> dict[str, str]:
    """The named parameters of ``query``; a name given twice is refused (ambiguous)."""
    if len(query) > _MAX_QUERY:
        raise BadRequest()
    wanted = set(names)
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in wanted:
            if name in found:
                raise BadRequest()
            found[name] = value
    return found


def original_url(path: bytes, query: str) -> str:
    """The URL a request was made to (root path included), for a ``next`` parameter."""
    url = quote(path)
    return f"{url}?{query}" if query else url


# -- issuer ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """An SSO request that passed every check but the user's: the skin asks the extractor next."""

    service: Service
    return_url: str | None
    echoed: tuple[tuple[str, str], ...]


class IssuerOptions(TypedDict, total=False):
    """Keyword options of both ``IssuerMiddleware`` skins (see :class:`Issuer`)."""

    services: Required[Iterable[Service]]
    user: Required[Callable[[Any], Any]]
    prefix: str
    login_url: str | None
    clock: Clock


class Issuer:
    """The issuer's logic: which paths are ours, then checks, then sign and send.

    :param services: the destinations, e.g. ``services.frill(...)``.
    :param user: the extractor, ``request -> Principal | Mapping | object | None``
        (the framework's request object; may be async on ASGI).
    :param prefix: login paths are ``{prefix}/{service.name}``.
    :param login_url: where anonymous users go to sign in (``?next=`` is added).
    :param clock: the time source (tests pass a controllable one).
    """

    def __init__(
        self,
        *,
        services: Iterable[Service],
        user: Callable[[Any], Any],
        prefix: str = "/sso",
        login_url: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        if not callable(user):
            raise ConfigurationError("user: pass a callable(request) returning the signed-in user.")
        self.user = user
        prefix = check_prefix(prefix)
        self.routes: dict[str, Service] = {}
        for service in services:
            if not isinstance(service, Service):
                raise ConfigurationError(
                    f"services: {service!r} is not a Service; build one with "
                    "sso_middleware.services.frill(...), .invoiced(...) or .generic(...)."
                )
            path = f"{prefix}/{service.name}"
            if path in self.routes:
                raise ConfigurationError(
                    f"services: two services are named {service.name!r}; pass name='...' to "
                    "one of them so each has its own login path."
                )
            self.routes[path] = service
        if not self.routes:
            raise ConfigurationError("services: configure at least one service.")
        if login_url is not None and not (
            safe_relative_path(login_url) or login_url.startswith(("https://", "http://"))
        ):
            raise ConfigurationError(
                f"login_url {login_url!r}: use a path such as '/login' or an absolute URL."
            )
        self.login_url = login_url
        self.clock = clock

    def prepare(self, service: Service, method: str, query: str) -> Pending:
        """Check the request itself (method, return URL) before anyone is asked who the user is."""
        if method not in ("GET", "HEAD"):
            raise MethodNotAllowed()
        names = [n for n in (service.return_param, *service.echo) if n]
        params = parse_query(query, names) if names else {}
        return_url = params.get(service.return_param or "", "")
        if return_url:
            return_url = service.check_return(return_url)
        else:
            return_url = service.default_return or ""
            if service.target is None and not return_url:
                raise RedirectMissing()
        echoed = tuple(
            (name, params[name]) for name in service.echo if name in params
        )
        if any(len(value) > _MAX_ECHO for _, value in echoed):
            raise BadRequest()
        return Pending(service, return_url or None, echoed)

    def unauthenticated(self, original: str) -> Reply:
        """Send an anonymous user to log in, coming back to ``original`` afterwards."""
        if self.login_url is None:
            raise NotAuthenticated()
        return redirect(with_params(self.login_url, [("next", original)]))

    def issue(self, pending: Pending, principal: Principal) -> Reply:
        """Sign the service's claims for ``principal`` and send the browser there."""
        service = pending.service
        claims = service.build_claims(principal)
        now = int(self.clock())
        claims["iat"] = now
        claims["exp"] = now + service.ttl
        claims["jti"] = secrets.token_urlsafe(16)
        token = sign(claims, service.keys.signing, typ=service.typ)
        params = list(pending.echoed)
        if service.forward_as and pending.return_url:
            params.append((service.forward_as, pending.return_url))
        if service.target is None:  # prepare() guarantees a return URL here
            reply = redirect(with_params(pending.return_url or "", [(service.token_param, token)]))
        elif service.placement == "path":
            reply = redirect(with_params(service.token_url(token), params))
        elif service.placement == "form":
            reply = post_form(service.target, [(service.token_param, token), *params])
        else:
            reply = redirect(with_params(service.target, [*params, (service.token_param, token)]))
        logger.info("issued login service=%s user=%r", service.name, principal.id)
        return reply


# -- verifier -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the verifier needs of a request it handles (built by the skins)."""

    method: str
    root: str
    path: str
    query: str
    secure: bool
    accept: str | None
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Login:
    """One accepted login, as recorded by the verifier."""

    service: str
    principal: Principal
    claims: Mapping[str, Any]
    at: float


class Receiver:
    """Where and how tokens arrive.

    ``path=None`` accepts the token on any path that carries ``token_param`` in
    its query (Frill receives on the page its ``redirect`` named).
    """

    __slots__ = ("path", "placement", "token_param")

    def __init__(
        self,
        *,
        path: str | None,
        placement: Literal["query", "path", "form"] = "query",
        token_param: str = "token",
    ) -> None:
        if path is not None:
            path = path if path == "/" or placement == "path" else path.rstrip("/")
            if safe_relative_path(path) is None:
                raise ConfigurationError(f"path {path!r}: use a path such as '/sso'.")
        elif placement != "query":
            raise ConfigurationError("path: a path is needed for path and form placements.")
        self.path = path
        self.placement = placement
        self.token_param = token_param

    @classmethod
    def for_service(cls, service: Service) -> Receiver:
        return cls(
            path=service.receive_path, placement=service.placement, token_param=service.token_param
        )


Action = Literal["login", "logout"]


class VerifierOptions(TypedDict, total=False):
    """Keyword options of both ``VerifierMiddleware`` skins (see :meth:`Verifier.configure`)."""

    key: KeyInput | None
    service: Service | None
    path: str
    token_param: str
    placement: Literal["query", "path", "form"]
    algorithms: Iterable[str] | None
    issuer: str | Iterable[str] | None
    audience: str | None
    typ: str | None
    required_claims: Iterable[str]
    identity: Iterable[str] | None
    leeway: float
    max_lifetime: float
    max_age: float | None
    replay_store: ReplayStore | None
    session_key: str | bytes | None
    cookie_name: str
    session_max_age: int
    default_return: str
    on_login: Callable[[Login], object] | None
    clock: Clock


class Verifier:
    """The verifier's logic: receive a token, check it fully, consume it once, open a session."""

    def __init__(
        self,
        *,
        receiver: Receiver,
        policy: TokenPolicy,
        sessions: Sessions,
        service: str,
        identity: tuple[str, ...] = ("sub", "id"),
        replay_store: ReplayStore | None = None,
        logout_path: str | None = None,
        default_return: str = "/",
        return_params: tuple[str, ...] = ("next", "redirect"),
        on_login: Callable[[Login], object] | None = None,
        clock: Clock = time.time,
        max_logins: int = 1000,
    ) -> None:
        if safe_relative_path(default_return) is None:
            raise ConfigurationError(
                f"default_return {default_return!r}: use a same-site path such as '/'."
            )
        if not identity:
            raise ConfigurationError("identity: name at least one claim, e.g. ('sub', 'id').")
        self.receiver = receiver
        self.policy = policy
        self.sessions = sessions
        self.service = service
        self.identity = identity
        self.replay_store: ReplayStore = (
            replay_store if replay_store is not None else MemoryReplayStore()
        )
        self.logout_path = logout_path
        self.default_return = default_return
        self.return_params = return_params
        self.on_login = on_login
        self.clock = clock
        self.logins: deque[Login] = deque(maxlen=max_logins)
        self._query_marker = receiver.token_param + "="

    @classmethod
    def configure(
        cls,
        *,
        key: KeyInput | None = None,
        service: Service | None = None,
        path: str = "/sso",
        token_param: str = "token",
        placement: Literal["query", "path", "form"] = "query",
        algorithms: Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        audience: str | None = None,
        typ: str | None = None,
        required_claims: Iterable[str] = (),
        identity: Iterable[str] | None = None,
        leeway: float = 30.0,
        max_lifetime: float = 86400.0,
        max_age: float | None = None,
        replay_store: ReplayStore | None = None,
        session_key: str | bytes | None = None,
        cookie_name: str = "sso_session",
        session_max_age: int = 8 * 3600,
        default_return: str = "/",
        on_login: Callable[[Login], object] | None = None,
        clock: Clock = time.time,
    ) -> Verifier:
        """Build a verifier from the middleware's options (validated here, once).

        Either ``key`` (a generic receiver on ``path``, token in ``token_param``)
        or ``service`` (receive like that service: its placement, key and
        required claims). A receiver standing in for a service accepts any
        ``iss`` unless ``issuer`` is given, as the services themselves do.
        """
        path = check_prefix(path, "path")
        if service is not None:
            if key is not None:
                raise ConfigurationError(
                    "pass key=... or service=..., not both: a service brings its own key."
                )
            receiver = Receiver.for_service(service)
            keys = service.keys
            required = (*service.required_claims, *required_claims)
            identity = tuple(identity or service.identity)
            max_age = service.max_age if max_age is None else max_age
            name = service.name
            # a service that hands back a same-site path (Help Scout's returnTo) lands there
            return_params = ("next", "redirect", *((service.forward_as,) if service.relative_return else ()))
        else:
            receiver = Receiver(
                path=path + "/" if placement == "path" else path,
                placement=placement,
                token_param=token_param,
            )
            # a bare secret is bound to one algorithm; Key objects carry their own
            allowed = sorted(set(algorithms or ("HS256",)))
            bare = isinstance(key, (str, bytes)) or (
                isinstance(key, Sequence) and any(isinstance(k, (str, bytes)) for k in key)
            )
            if len(allowed) > 1 and bare:
                raise ConfigurationError(
                    "algorithms: a secret is bound to one algorithm; to accept several, pass "
                    "key=[Key(secret, algorithm='HS256'), Key(other, algorithm='HS512')]."
                )
            keys = KeySet.build(key, algorithm=allowed[0], field="key")
            required = tuple(required_claims)
            identity = tuple(identity or ("sub", "id"))
            name = "sso"
            return_params = ("next", "redirect")
        if leeway < 0 or leeway > 300:
            raise ConfigurationError("leeway must be between 0 and 300 seconds.")
        policy = TokenPolicy(
            keys,
            algorithms=frozenset(algorithms) if algorithms is not None else None,
            leeway=leeway,
            max_lifetime=max_lifetime,
            max_age=max_age,
            issuer=(issuer,) if isinstance(issuer, str) else (
                tuple(issuer) if issuer is not None else None
            ),
            audience=audience,
            typ=typ,
            required=required,
        )
        secret = session_key if session_key is not None else keys.signing.derive("session")
        sessions = Sessions(
            Key(secret, field="session_key"), cookie_name=cookie_name, max_age=session_max_age
        )
        return cls(
            receiver=receiver,
            policy=policy,
            sessions=sessions,
            service=name,
            identity=identity,
            replay_store=replay_store,
            logout_path=f"{path}/logout",
            default_return=default_return,
            return_params=return_params,
            on_login=on_login,
            clock=clock,
        )

    def authenticate(
        self,
        cookie_header: str,
        parse: Callable[[str], Mapping[str, str]],
        view: Callable[[Principal], T],
    ) -> tuple[T | None, bool]:
        """The session as ``view(principal)``, and whether a bad or expired cookie must be cleared."""
        user, sent = self.sessions.read(cookie_header, self.clock(), parse, view)
        return user, user is None and sent

    def match(self, method: str, path: str, query: str) -> Action | None:
        """Is this request a login or logout for us? Cheap: string compares only."""
        receiver = self.receiver
        if path == self.logout_path:
            return "logout"
        if receiver.path is None:
            marker = self._query_marker
            return "login" if query.startswith(marker) or "&" + marker in query else None
        if receiver.placement == "path":
            return "login" if path.startswith(receiver.path) and len(path) > len(receiver.path) else None
        return "login" if path == receiver.path else None

    def login(self, request: Incoming) -> Reply:
        """Verify the token, consume it, and answer with a fresh session and a 303."""
        receiver = self.receiver
        method, path, query = request.method, request.path, request.query
        if receiver.placement == "form":
            if method != "POST":
                raise MethodNotAllowed("This sign-in address only accepts POST.")
            token = parse_query(request.body.decode("latin-1"), [receiver.token_param]).get(
                receiver.token_param
            )
        elif method not in ("GET", "HEAD"):
            raise MethodNotAllowed()
        elif receiver.placement == "path":
            token = path[len(receiver.path or "") :]
            if _PATH_SEGMENT.intersection(token):
                raise TokenMissing()
        else:
            token = parse_query(query, [receiver.token_param]).get(receiver.token_param)
        if not token:
            raise TokenMissing()

        now = self.clock()
        verified = verify(token, self.policy, now)
        claims = verified.claims
        user_id = next((claims[c] for c in self.identity if claims.get(c) not in (None, "")), None)
        if user_id is None:
            raise MissingTokenClaim(self.identity[0])
        if not isinstance(user_id, (str, int)) or isinstance(user_id, bool):
            raise InvalidClaim(self.identity[0])
        # One-time use is keyed on the claims, never on the token's spelling (SECURITY.md).
        once = claims.get("jti") or "payload:" + verified.payload_digest
        issuer = claims.get("iss") if isinstance(claims.get("iss"), str) else ""
        expires = claims.get("exp") or claims["iat"] + (self.policy.max_age or 0)
        try:
            first = self.replay_store.claim(
                f"{self.service}\x1f{issuer}\x1f{once}", float(expires) + self.policy.leeway, now
            )
        except RequestError:
            raise
        except Exception as e:  # the store could not answer: fail closed
            logger.warning("replay store failed: %s", type(e).__name__)
            raise ReplayStoreUnavailable() from e
        if not first:
            raise TokenReplayed()

        principal = Principal(
            user_id,
            claims.get("email") if isinstance(claims.get("email"), str) else None,
            claims.get("name") if isinstance(claims.get("name"), str) else None,
            {k: v for k, v in claims.items() if k not in ("email", "name")},
        )
        record = Login(self.service, principal, claims, now)
        self.logins.append(record)
        if self.on_login is not None:
            self.on_login(record)
        logger.info("accepted login service=%s user=%r", self.service, user_id)
        return redirect(
            self._return_path(request),
            ("Set-Cookie", self.sessions.open(principal, self.service, now, request.secure)),
        )

    def _return_path(self, request: Incoming) -> str:
        query = request.query
        if self.receiver.path is None:  # back to the page itself, minus the token
            page = original_url((request.root + request.path).encode("utf-8"), query)
            return without_params(page, [self.receiver.token_param])
        try:
            params = parse_query(query, self.return_params)
        except BadRequest:
            return self.default_return
        for name in self.return_params:
            safe = safe_relative_path(params.get(name))
            if safe is not None:
                return safe
        return self.default_return

    def logout(self, secure: bool) -> Reply:
        return redirect(self.default_return, ("Set-Cookie", self.sessions.close(secure)))

    def respond(self, action: Action, request: Incoming) -> Reply:
        """Run ``action``; every failure becomes its error page (no cookie, no token echoed)."""
        try:
            if action == "logout":
                return self.logout(request.secure)
            return self.login(request)
        except SSOError as e:
            logger.info("refused login service=%s code=%s", self.service, e.code)
            allow = "POST" if self.receiver.placement == "form" else "GET, HEAD"
            return error(e, request.accept, *((("Allow", allow),) if e.status == 405 else ()))


def issuer_error(err: SSOError, accept: str | None) -> Reply:
    """The issuer's error page; a 405 says which method is allowed."""
    extra = (("Allow", "GET, HEAD"),) if err.status == 405 else ()
    return error(err, accept, *extra)


__all__ = [
    "Incoming",
    "Issuer",
    "IssuerOptions",
    "Login",
    "Pending",
    "Receiver",
    "Verifier",
    "VerifierOptions",
    "check_prefix",
    "issuer_error",
    "original_url",
    "parse_query",
]
