"""WSGI skin (werkzeug): the issuer and verifier middleware for Flask, Django and any WSGI app.

Translation only: environ to a :class:`~sso_middleware.messages.Request`, the
flow's :class:`~sso_middleware.messages.Reply` to a werkzeug response. Every
decision is in :mod:`sso_middleware.flows`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from . import flows
from .messages import PRINCIPAL_KEY, Reply, Request
from .steps import AppCall, drive

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["PRINCIPAL_KEY", "IssuerMiddleware", "VerifierMiddleware"]

WSGIApp = Callable[[Any, Any], Iterable[bytes]]


class _Response(Response):
    # a reply carries exactly its own headers: no default Content-Type, no recomputed length
    default_mimetype = None
    automatically_set_content_length = False


def _response(reply: Reply) -> Response:
    return _Response(reply.body, status=reply.status, headers=list(reply.headers))


def _text(environ: WSGIEnvironment, name: str) -> str:
    # PEP 3333 hands paths over as bytes decoded as latin-1; browsers send UTF-8.
    return str(environ.get(name, "")).encode("latin-1").decode("utf-8", "replace")


def _replay(environ: WSGIEnvironment, body: bytes) -> WSGIEnvironment:
    """``environ`` with the body already read as its input again, so the app's hook reads the
    same body (``request.form``)."""
    return {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


def _request(environ: WSGIEnvironment, body_limit: int = 0) -> Request:
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    if "CONTENT_TYPE" in environ:  # (PEP 3333 keeps it out of HTTP_*; the other skins see the header)
        headers["content-type"] = environ["CONTENT_TYPE"]
    body = get_input_stream(environ).read(body_limit + 1) if body_limit else b""
    return Request(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=_text(environ, "PATH_INFO"),
        query=environ.get("QUERY_STRING", ""),
        root=_text(environ, "SCRIPT_NAME"),
        secure=environ.get("wsgi.url_scheme") == "https",
        headers=headers,
        body=body,
    )


class IssuerMiddleware(flows.IssuerMiddleware[WSGIApp]):
    """Signs your users in to services: owns ``{prefix}/{service}``, passes everything else.

    ``user`` is called with a ``werkzeug.Request``. Options: see
    :class:`sso_middleware.flows.IssuerMiddleware`.

    >>> from sso_middleware import services
    >>> from sso_middleware.extractors import remote_user
    >>> app = IssuerMiddleware(lambda e, s: [], user=remote_user, services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    """

    _awaits = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        service = self._routes.get(environ.get("PATH_INFO", ""))
        if service is None and environ.get("SCRIPT_NAME"):  # mounted at its own prefix (a dispatcher)
            service = self._routes.get(environ["SCRIPT_NAME"] + environ.get("PATH_INFO", ""))
        if service is None:
            return self.app(environ, start_response)

        # (an OpenID Connect endpoint reads a form: its body_limit)
        request = _request(environ, getattr(service, "body_limit", 0))
        seen = _replay(environ, request.body) if request.body else environ

        def ask(call: Any) -> Any:  # None: who is signed in; an AppCall: the app's hook; else a store call
            if call is not None and not isinstance(call, AppCall):
                return getattr(call.on, call.method)(*call.args)
            return (self._user if call is None else call.hook)(WerkzeugRequest(seen))

        reply = drive(self._issue(service, request), ask)
        return _response(reply)(environ, start_response)


class VerifierMiddleware(flows.VerifierMiddleware[WSGIApp]):
    """The receiving side: verifies a sign-in token once, opens a session, exposes the user.

    A session's requests get ``environ["REMOTE_USER"]`` and ``environ["sso_middleware.principal"]``.
    Options: see :class:`sso_middleware.flows.VerifierMiddleware`.
    ``sign_out_everywhere(user_id)`` ends every session of a user on every host sharing the
    replay store.

    >>> app = VerifierMiddleware(lambda e, s: [], key="a-secret-of-at-least-thirty-two-bytes!")
    >>> app.logins
    deque([], maxlen=1000)
    """

    _awaits = False

    def sign_out_everywhere(self, user_id: object) -> None:
        """End every session ``user_id`` opened until now (raises ``ReplayStoreUnavailable``
        when the store cannot record it)."""
        self._run(self._sign_out_everywhere(user_id))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        route = self._route(method, path, environ.get("QUERY_STRING", "")) if path in self._watch else None
        if route is not None:
            reply = self._run(self._answer(route, _request(environ, route.body_limit)))
            return _response(reply)(environ, start_response)
        header = environ.get("HTTP_COOKIE")
        if not header:
            return self.app(environ, start_response)
        secure = environ.get("wsgi.url_scheme") == "https"
        principal, clear = (self._session_in_memory(header, secure) if self._in_memory
                            else self._run(self._session(header, secure)))
        if principal is not None:
            environ["REMOTE_USER"] = str(principal.id)
            environ[PRINCIPAL_KEY] = principal
        if clear is None:
            return self.app(environ, start_response)

        def clearing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Set-Cookie", clear)], exc_info)

        return self.app(environ, clearing)
