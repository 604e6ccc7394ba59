"""aiohttp skin: the issuer and verifier as aiohttp middleware (``web.Application(middlewares=[...])``).

aiohttp serves its own protocol, neither WSGI nor ASGI, and runs middleware around its
handlers rather than around an app: these two classes are built without an app and listed in
the application's ``middlewares``. Translation only: aiohttp's ``web.Request`` to a
:class:`~sso_middleware.messages.Request`, the flow's :class:`~sso_middleware.messages.Reply`
to a ``web.Response``. Every decision is in :mod:`sso_middleware.flows`.

The neutral request is read from what the client sent (``raw_headers``, the raw path and query),
as the ASGI skin reads its scope, so both skins decide on the same bytes.
"""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from . import flows
from .errors import BadRequest, ConfigurationError
from .messages import Reply, Request
from .principal import Principal
from .steps import AppCall, adrive
from .wiring import AiohttpHandler

__all__ = ["USER", "IssuerMiddleware", "VerifierMiddleware"]


def _user_key() -> web.RequestKey[Principal]:
    make = getattr(web, "RequestKey", None)
    if make is None:  # aiohttp before 3.14 has no typed keys: the plain key of the same name
        return "user"  # type: ignore[return-value]
    return make("user", Principal)  # type: ignore[no-any-return]


USER = _user_key()
"""The request key under which the verifier hands your handlers a session's
:class:`~sso_middleware.Principal`: ``request.get(USER)`` (an aiohttp ``web.RequestKey``, as
aiohttp 3.14 asks of request storage; the plain key ``"user"`` on older aiohttp). One key is
enough: no other middleware can write it."""

_HANDLER = AiohttpHandler()
_LISTED = (
    "aiohttp runs middleware around its handlers, not around an app: build {owner} without one "
    "and list it, web.Application(middlewares=[..., {owner}(...)]) (see docs/recipes.md, aiohttp)."
)


def _response(reply: Reply) -> web.Response:
    return web.Response(body=reply.body, status=reply.status, headers=CIMultiDict(reply.headers))


def _latin1(text: str) -> str:
    """``text`` as the bytes the client sent, read as latin-1 (what WSGI and ASGI hand over):
    aiohttp decodes them as UTF-8 with surrogate escapes."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


def _path(request: web.Request) -> str:
    """The path as ASGI servers give it: percent-decoded (``%2F`` too), then UTF-8."""
    raw = request.rel_url.raw_path
    if "%" not in raw and raw.isascii():
        return raw
    return unquote_to_bytes(raw.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")


def _headers(request: web.Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in request.raw_headers:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        # repeated headers join as a WSGI server joins them (cookies with "; ")
        found[key] = f"{found[key]}{'; ' if key == 'cookie' else ', '}{text}" if key in found else text
    return found


def _cookie(request: web.Request) -> bytes | None:
    """The ``Cookie`` header as the client sent it (the session cache is keyed on the bytes)."""
    found: bytes | None = None
    for name, value in request.raw_headers:
        if len(name) == 6 and name.lower() == b"cookie":
            found = value if found is None else found + b"; " + value
    return found


async def _body(request: web.Request, limit: int) -> bytes | None:
    """At most ``limit + 1`` bytes of the body, or ``None`` when it cannot be read (the client
    went away, or sent a body aiohttp could not parse)."""
    body = b""
    try:
        if request.content_length is not None and request.content_length <= limit:
            return (await request.read())[: limit + 1]  # (aiohttp keeps it: the hook reads it too)
        while len(body) <= limit:
            chunk = await request.content.read(limit + 1 - len(body))
            if not chunk:
                break
            body += chunk
    except Exception:  # aiohttp's payload and connection errors: nothing of the body to trust
        return None
    return body


def _request(request: web.Request, path: str, body: bytes = b"") -> Request:
    return Request(
        method=request.method,
        path=path,
        query=_latin1(request.rel_url.raw_query_string),
        root="",  # aiohttp's paths are always from the site's root, sub-applications included
        secure=request.secure,
        headers=_headers(request),
        body=body,
    )


class IssuerMiddleware(flows.IssuerMiddleware[AiohttpHandler]):
    """Signs your users in to services: owns ``{prefix}/{service}``, passes everything else.

    An aiohttp middleware: build it without an app and list it in your root
    ``web.Application(middlewares=[...])`` after the middleware that loads your session
    (``aiohttp_session``'s), so the extractor sees it. Only the login paths are answered
    here, and only after their method and return URL are checked; every other request goes
    to your handlers untouched. ``user`` is called with aiohttp's ``web.Request`` and may be
    async (``sso_middleware.extractors.aiohttp_session("user")`` reads ``aiohttp_session``).
    Options: see :class:`sso_middleware.flows.IssuerMiddleware` (all but ``app``).

    >>> from sso_middleware import services
    >>> from sso_middleware.extractors import aiohttp_session
    >>> issuer = IssuerMiddleware(user=aiohttp_session("user"), services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    >>> app = web.Application(middlewares=[issuer])
    """

    __middleware_version__ = 1  # aiohttp's new-style middleware: called as (request, handler=...)

    def __init__(self, app: object = None, /, **options: Any) -> None:
        if app is not None:
            raise ConfigurationError(_LISTED.format(owner=type(self).__name__))
        super().__init__(_HANDLER, **options)

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = _path(request)
        service = self._routes.get(path)
        if service is None:
            return await handler(request)

        limit = getattr(service, "body_limit", 0)  # (an OpenID Connect endpoint reads a form)
        body = await _body(request, limit) if limit else b""
        if body is None:
            return _response(self._pages.reply(BadRequest(), request.headers.get("Accept")))

        async def ask(call: Any) -> object:
            if call is not None and not isinstance(call, AppCall):  # a replay-store call (OpenID Connect)
                return await getattr(call.on, "a" + call.method)(*call.args)
            hook = self._user if call is None else call.hook  # the extractor, or the app's hook
            user = hook(request)
            return await user if inspect.isawaitable(user) else user

        return _response(await adrive(self._issue(service, _request(request, path, body)), ask))


class VerifierMiddleware(flows.VerifierMiddleware[AiohttpHandler]):
    """The receiving side: verifies a sign-in token once, opens a session, exposes the user.

    An aiohttp middleware: build it without an app and list it in your root
    ``web.Application(middlewares=[...])`` before anything that reads the user (an
    ``IssuerMiddleware`` passing the user on included). A session's requests get
    ``request[USER]``: the verified :class:`~sso_middleware.Principal` (``id``, ``email``,
    ``name``, ``attributes``); without a session it is not set (``request.get(USER)`` is
    ``None``). Options: see :class:`sso_middleware.flows.VerifierMiddleware` (all but ``app``).
    ``await sign_out_everywhere(user_id)`` ends every session of a user on every host sharing
    the replay store.

    >>> verifier = VerifierMiddleware(key="a-secret-of-at-least-thirty-two-bytes!")
    >>> app = web.Application(middlewares=[verifier])
    >>> len(verifier.logins)
    0
    """

    __middleware_version__ = 1

    def __init__(self, app: object = None, /, **options: Any) -> None:
        if app is not None:
            raise ConfigurationError(_LISTED.format(owner=type(self).__name__))
        super().__init__(_HANDLER, **options)

    async def sign_out_everywhere(self, user_id: object) -> None:
        """End every session ``user_id`` opened until now (raises ``ReplayStoreUnavailable``
        when the store cannot record it)."""
        await self._arun(self._sign_out_everywhere(user_id))

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = _path(request)
        # most requests are not ours: a set lookup settles it without a call
        route = self._route(request.method, path, _latin1(request.rel_url.raw_query_string)) if (
            path in self._watch) else None
        if route is not None:
            return _response(await self._login_or_logout(route, request, path))
        header = _cookie(request)
        if header is None:
            return await handler(request)
        secure = request.secure
        principal, clear = (self._session_in_memory(header, secure) if self._in_memory
                            else await self._arun(self._session(header.decode("latin-1"), secure)))
        if principal is not None:
            request[USER] = principal
        if clear is None:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as e:  # a raised response (web.HTTPFound, ...) is sent as it is
            e.headers.add("Set-Cookie", clear)
            raise
        if not response.prepared:  # (a streamed response has sent its headers: cleared next time)
            response.headers.add("Set-Cookie", clear)
        return response

    async def _login_or_logout(self, route: flows.Route, request: web.Request, path: str) -> Reply:
        body = await _body(request, route.body_limit) if route.body_limit else b""
        if body is None:  # the client went away or sent an unreadable body: nothing to verify
            return self._pages.reply(BadRequest(), request.headers.get("Accept"))
        return await self._arun(self._answer(route, _request(request, path, body)))
