"""ASGI skin (pure ASGI over Starlette's request/response objects): Starlette, FastAPI, any ASGI app.

Translation only: scope and body to a :class:`~sso_middleware.messages.Request`,
the flow's :class:`~sso_middleware.messages.Reply` to a Starlette response.
Every decision is in :mod:`sso_middleware.flows`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import flows
from .messages import PRINCIPAL_KEY, Reply, Request
from .principal import Principal
from .steps import AppCall, adrive

__all__ = ["PRINCIPAL_KEY", "IssuerMiddleware", "SSOUser", "VerifierMiddleware"]


_NAMES: dict[str, bytes] = {}
"""Header names as ASGI writes them (lower-case latin-1), each encoded once: only our own
code names headers, so the set is small (bounded all the same)."""


def _name(name: str) -> bytes:
    found = _NAMES.get(name)
    if found is None:
        found = name.lower().encode("latin-1")
        if len(_NAMES) < 256:
            _NAMES[name] = found
    return found


class _Response:
    """A :class:`Reply` as an ASGI app: exactly its status, headers and body (what Starlette's
    ``Response`` sends with ``raw_headers`` set, without the headers it would compute first)."""

    __slots__ = ("_body", "_start")

    def __init__(self, reply: Reply) -> None:
        headers = [(_name(name), value.encode("latin-1")) for name, value in reply.headers]
        self._start = {"type": "http.response.start", "status": reply.status, "headers": headers}
        self._body = {"type": "http.response.body", "body": reply.body}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start)
        await send(self._body)


def _route_path(scope: Scope) -> str:
    """The path below ``root_path`` (servers put the root in ``path`` too, per the ASGI spec).
    Inlined as ``scope["path"] if not scope.get("root_path") else _route_path(scope)`` on the
    pass-through path, where a call per request is most of what we add."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _full_path(scope: Scope) -> str:
    """The path from the site's root: ``root_path`` and the path below it, whether the server or
    mount left the root in ``path`` (the ASGI spec, Starlette's ``Mount``) or stripped it (older
    servers, ``aiohttp_asgi``). An issuer mounted at its own prefix finds its paths by it."""
    path: str = scope["path"]
    root: str = scope["root_path"]
    return path if path.startswith(root) else root + path


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key, text = name.decode("latin-1"), value.decode("latin-1")  # ASGI names are lower-case
        # repeated headers join as a WSGI server joins them (cookies with "; ")
        found[key] = f"{found[key]}{'; ' if key == 'cookie' else ', '}{text}" if key in found else text
    return found


class _Headers(Mapping[str, str]):
    """:func:`_headers` of a scope, decoded when first read: a sign-in that goes well reads none."""

    __slots__ = ("_decoded", "_scope")

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._decoded: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = _headers(self._scope)
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._all().get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


async def _body(receive: Receive, limit: int) -> bytes | None:
    """At most ``limit + 1`` bytes of the body, or ``None`` when the client went away."""
    body = b""
    while len(body) <= limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return body[: limit + 1]


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body already read handed out first, so the app's hook reads the same
    body (its ``await request.form()`` never waits for a message that will not come)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _request(scope: Scope, body: bytes = b"") -> Request:
    return Request(
        method=scope["method"],
        path=_route_path(scope),
        query=scope["query_string"].decode("latin-1"),
        root=scope.get("root_path", ""),
        secure=scope.get("scheme") in ("https", "wss"),
        headers=_Headers(scope),
        body=body,
    )


def _clearing(send: Send, cookie: bytes) -> Send:
    """``send``, adding ``Set-Cookie: cookie`` (which clears a refused session) to the response's start."""

    async def clearing(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (b"set-cookie", cookie)]}
        await send(message)

    return clearing


def _exposed(scope: Scope, user: SSOUser | None, clear: str | None, send: Send) -> Send:
    """Hand the app the session's user (or the anonymous one, unless an outer authentication
    middleware set its own); the ``send`` to answer with, clearing a refused cookie on HTTP."""
    if user is not None:
        scope["user"] = user
        scope["auth"] = _AUTHENTICATED
        scope[PRINCIPAL_KEY] = user.principal
    elif "user" not in scope:
        scope["user"] = _ANONYMOUS
        scope["auth"] = _NO_CREDENTIALS
    return send if clear is None or scope["type"] != "http" else _clearing(send, clear.encode("latin-1"))


class SSOUser(BaseUser):
    """Starlette's ``request.user`` for a verified session (``@requires("authenticated")`` works).

    ``id``, ``email``, ``name`` and ``attributes`` are the verified principal's, so the
    user can be handed straight to an issuer behind the verifier (``user=scope_user``).
    Immutable: one instance serves every request of a session.

    >>> ada = SSOUser(Principal(7, "ada@example.com", "Ada"))
    >>> ada.id, ada.email, ada.display_name, ada.is_authenticated
    (7, 'ada@example.com', 'Ada', True)
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
    def id(self) -> Any:
        """The user's id, as the token named them (an integer stays an integer)."""
        return self.principal.id

    @property
    def email(self) -> str | None:
        return self.principal.email

    @property
    def name(self) -> str | None:
        return self.principal.name

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The token's other claims."""
        return self.principal.attributes

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


class IssuerMiddleware(flows.IssuerMiddleware[ASGIApp]):
    """Signs your users in to services: owns ``{prefix}/{service}``, passes everything else.

    ``user`` is called with a ``starlette.requests.Request`` and may be async. Lifespan,
    websocket and every other request pass through untouched. Options: see
    :class:`sso_middleware.flows.IssuerMiddleware`.

    >>> from sso_middleware import services
    >>> from sso_middleware.extractors import scope_user
    >>> async def app(scope, receive, send): ...
    >>> app = IssuerMiddleware(app, user=scope_user, services=[
    ...     services.invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme",
    ...                       customer_id="invoiced_id")])
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # most requests: not a path of ours, not mounted below a root (lifespan has neither). The
        # answer is another method: its closure would cost every request a frame with cells.
        if scope.get("path") not in self._routes and not scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            service = None
        elif not scope.get("root_path"):
            service = self._routes.get(scope["path"])
        else:  # mounted: below its root, or at its own prefix (Mount("/sso", issuer), aiohttp_asgi)
            service = self._routes.get(_route_path(scope)) or self._routes.get(_full_path(scope))
        if service is None:
            await self.app(scope, receive, send)
            return
        await self._respond(service, scope, receive, send)

    async def _respond(self, service: Any, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a path of ours: read its body (if its endpoint takes one), run the flow."""
        limit = getattr(service, "body_limit", 0)  # (an OpenID Connect endpoint reads a form)
        body = await _body(receive, limit) if limit else b""
        if body is None:
            return  # the client is gone: nobody to answer

        async def ask(call: Any) -> object:
            if call is not None and not isinstance(call, AppCall):  # a replay-store call (OpenID Connect)
                return await getattr(call.on, "a" + call.method)(*call.args)
            hook = self._user if call is None else call.hook  # the extractor, or the app's hook
            user = hook(StarletteRequest(scope, _replay(body, receive) if body else receive))
            return await user if inspect.isawaitable(user) else user

        reply = await adrive(self._issue(service, _request(scope, body)), ask)
        await _Response(reply)(scope, receive, send)


class VerifierMiddleware(flows.VerifierMiddleware[ASGIApp]):
    """The receiving side: verifies a sign-in token once, opens a session, exposes the user.

    A session's requests get ``scope["user"]`` (an :class:`SSOUser`), ``scope["auth"]`` and
    ``scope["sso_middleware.principal"]``, so ``request.user`` and ``@requires("authenticated")``
    work. Options: see :class:`sso_middleware.flows.VerifierMiddleware`.
    ``await sign_out_everywhere(user_id)`` ends every session of a user on every host sharing
    the replay store.

    >>> async def app(scope, receive, send): ...
    >>> app = VerifierMiddleware(app, key="a-secret-of-at-least-thirty-two-bytes!")
    >>> len(app.logins)
    0
    """

    def _view(self, principal: Principal) -> SSOUser:
        return SSOUser(principal)

    async def sign_out_everywhere(self, user_id: object) -> None:
        """End every session ``user_id`` opened until now (raises ``ReplayStoreUnavailable``
        when the store cannot record it)."""
        await self._arun(self._sign_out_everywhere(user_id))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # most requests are not ours: a set lookup settles it without a call (unless mounted
            # below a root)
            if scope["path"] in self._watch or scope.get("root_path"):
                route = self._routed(scope)
                if route is not None:
                    await self._respond(route, scope, receive, send)
                    return
        elif kind != "websocket":  # lifespan and the rest are not ours
            await self.app(scope, receive, send)
            return

        # the Cookie header as the server gave it (latin-1 bytes; the session cache is keyed on
        # them, so a signed-in request decodes nothing): a loop written out, as it runs every time
        header = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                header = value if header is None else header + b"; " + value  # (HTTP/2 splits cookies)
        if header is None:  # no cookie at all: nobody is signed in, nothing to clear
            if "user" not in scope:  # keep what an outer authentication middleware set
                scope["user"] = _ANONYMOUS
                scope["auth"] = _NO_CREDENTIALS
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") in ("https", "wss")
        user, clear = (self._session_in_memory(header, secure) if self._in_memory
                       else await self._arun(self._session(header.decode("latin-1"), secure)))
        await self.app(scope, receive, _exposed(scope, user, clear, send))

    def _routed(self, scope: Scope) -> flows.Route | None:
        """The route of an HTTP request that may be ours (its path below any root)."""
        path = scope["path"] if not scope.get("root_path") else _route_path(scope)
        if path not in self._watch:
            return None
        return self._route(scope["method"], path, scope["query_string"])

    async def _respond(self, route: flows.Route, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request to one of our paths (a sign-in, a logout): read its body, run the flow."""
        body = await _body(receive, route.body_limit) if route.body_limit else b""
        if body is None:
            return  # the client is gone: nobody to answer
        reply = await self._arun(self._answer(route, _request(scope, body)))
        await _Response(reply)(scope, receive, send)

