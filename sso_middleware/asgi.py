"""ASGI skin (pure ASGI over Starlette's request/response objects): Starlette, FastAPI, any ASGI app."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import SSOError, TokenTooLarge
from .flows import Action, Incoming, Issuer, Verifier, issuer_error, original_url
from .principal import Principal
from .responses import Reply, error
from .services import Service

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .flows import IssuerOptions, VerifierOptions

PRINCIPAL_KEY = "sso_middleware.principal"
_MAX_FORM = 16 * 1024


def _response(reply: Reply) -> Response:
    response = Response(reply.body, status_code=reply.status)
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers
    ]
    return response


def _route_path(scope: Scope) -> str:
    """The path below ``root_path`` (servers put the root in ``path`` too, per the ASGI spec)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


class SSOUser(BaseUser):
    """Starlette's ``request.user`` for a verified session (``@requires("authenticated")`` works).

    Immutable: one instance serves every request of a session.
    """

    principal: Principal

    def __init__(self, principal: Principal) -> None:
        object.__setattr__(self, "principal", principal)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SSOUser is immutable")

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return str(self.principal.name or self.principal.email or self.principal.id)

    @property
    def identity(self) -> str:
        return str(self.principal.id)


class _Credentials(AuthCredentials):
    """``request.auth`` of a verified session; scopes in a tuple, so one instance can be shared."""

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes  # type: ignore[assignment]


_AUTHENTICATED = _Credentials(("authenticated",))
_NO_CREDENTIALS = _Credentials(())
_ANONYMOUS = UnauthenticatedUser()


class IssuerMiddleware:
    """Signs your users in to services: owns ``{prefix}/{service}``, passes everything else.

    On a login path it checks the service's return URL against the service's
    hosts, asks ``user`` (called with a ``starlette.requests.Request``; may be
    async) who is signed in, and redirects (or auto-POSTs) there with a
    short-lived token. Nobody signed in: a redirect to
    ``login_url?next=<this URL>``, or a 401 without one. Lifespan, websocket
    and every other request pass through untouched.

    :param app: the ASGI app to wrap.
    :param services: the destinations, e.g. ``services.frill(...)``.
    :param user: ``request -> Principal | Mapping | object | None`` (sync or async).
    :param prefix: login paths are ``{prefix}/{service.name}``.
    :param login_url: where anonymous users go to sign in.

    >>> from sso_middleware import services
    >>> from sso_middleware.extractors import scope_user
    >>> async def app(scope, receive, send): ...
    >>> app = IssuerMiddleware(app, user=scope_user, services=[
    ...     services.invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme")])
    """

    def __init__(self, app: ASGIApp, **options: Unpack[IssuerOptions]) -> None:
        self.app = app
        self.flow = Issuer(**options)
        self._routes = self.flow.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            service = self._routes.get(_route_path(scope))
            if service is not None:
                reply = await self._sso(service, scope, receive)
                await _response(reply)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _sso(self, service: Service, scope: Scope, receive: Receive) -> Reply:
        query = scope["query_string"].decode("latin-1")
        try:
            pending = self.flow.prepare(service, scope["method"], query)
            user = self.flow.user(Request(scope, receive))
            if inspect.isawaitable(user):
                user = await user
            principal = Principal.coerce(user)
            if principal is None:
                path = scope.get("root_path", "") + _route_path(scope)
                return self.flow.unauthenticated(original_url(path.encode("utf-8"), query))
            return self.flow.issue(pending, principal)
        except SSOError as e:
            return issuer_error(e, _header(scope, b"accept"))


class VerifierMiddleware:
    """The receiving side: verifies a sign-in token once, opens a session, exposes the user.

    The token is checked fully (algorithm allow-list, signature, ``exp`` or a
    maximum age, maximum lifetime, issuer/audience/type when configured,
    required claims) and its ``jti`` consumed before the session opens; the
    browser is then sent on with a 303 so the token leaves the URL. Later
    requests with the session cookie get ``scope["user"]`` (an :class:`SSOUser`),
    ``scope["auth"]`` and ``scope["sso_middleware.principal"]``, so
    ``request.user`` and ``@requires("authenticated")`` work.
    ``{path}/logout`` ends the session. Accepted logins are recorded in ``logins``.

    :param app: the ASGI app to wrap.
    :param key: the shared secret of a generic receiver on ``path`` (``?token=``).
    :param service: receive like this service does (``services.frill(...)``).
    :param options: see :meth:`sso_middleware.flows.Verifier.configure`.

    >>> async def app(scope, receive, send): ...
    >>> app = VerifierMiddleware(app, key="a-secret-of-at-least-thirty-two-bytes!")
    >>> len(app.logins)
    0
    """

    def __init__(self, app: ASGIApp, **options: Unpack[VerifierOptions]) -> None:
        self.app = app
        self.flow = Verifier.configure(**options)
        self.logins = self.flow.logins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if kind == "http":
            query = scope["query_string"].decode("latin-1")
            action = self.flow.match(scope["method"], path, query)
            if action is not None:
                await self._respond(action, path, query, scope, receive, send)
                return

        header = _header(scope, b"cookie")
        user, stale = self.flow.authenticate(header, cookie_parser, SSOUser) if header else (None, False)
        if user is not None:
            scope["user"] = user
            scope["auth"] = _AUTHENTICATED
            scope[PRINCIPAL_KEY] = user.principal
        elif "user" not in scope:  # keep what an outer authentication middleware set
            scope["user"] = _ANONYMOUS
            scope["auth"] = _NO_CREDENTIALS
        if not stale or kind != "http":
            await self.app(scope, receive, send)
            return
        clear = self.flow.sessions.close(_secure(scope)).encode("latin-1")

        async def clearing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (b"set-cookie", clear)]}
            await send(message)

        await self.app(scope, receive, clearing)

    async def _respond(
        self, action: Action, path: str, query: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        method = scope["method"]
        accept = _header(scope, b"accept")
        try:
            body = await _read_form(scope, receive) if method == "POST" else b""
        except SSOError as e:
            await _response(error(e, accept))(scope, receive, send)
            return
        request = Incoming(method, scope.get("root_path", ""), path, query, _secure(scope), accept, body)
        if self.flow.replay_store.blocking:
            reply = await anyio.to_thread.run_sync(self.flow.respond, action, request)
        else:
            reply = self.flow.respond(action, request)
        await _response(reply)(scope, receive, send)


def _secure(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


async def _read_form(scope: Scope, receive: Receive) -> bytes:
    body = b""
    async for chunk in Request(scope, receive).stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise TokenTooLarge()
    return body
