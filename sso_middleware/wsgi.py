"""WSGI skin (werkzeug): the issuer and verifier middleware for Flask, Django and any WSGI app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

from .errors import SSOError, TokenTooLarge
from .flows import Incoming, Issuer, Verifier, issuer_error, original_url
from .principal import Principal
from .responses import Reply, error
from .services import Service

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from typing_extensions import Unpack

    from .flows import IssuerOptions, VerifierOptions

PRINCIPAL_KEY = "sso_middleware.principal"
_MAX_FORM = 16 * 1024


def _response(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, headers=list(reply.headers))


class IssuerMiddleware:
    """Signs your users in to services: owns ``{prefix}/{service}``, passes everything else.

    On a login path it checks the service's return URL against the service's
    hosts, asks ``user`` (called with a ``werkzeug.Request``) who is signed in,
    and redirects (or auto-POSTs) there with a short-lived token. Nobody signed
    in: a redirect to ``login_url?next=<this URL>``, or a 401 without one.

    :param app: the WSGI app to wrap.
    :param services: the destinations, e.g. ``services.frill(...)``.
    :param user: ``request -> Principal | Mapping | object | None``.
    :param prefix: login paths are ``{prefix}/{service.name}``.
    :param login_url: where anonymous users go to sign in.

    >>> from sso_middleware import services
    >>> from sso_middleware.extractors import remote_user
    >>> app = IssuerMiddleware(lambda e, s: [], user=remote_user, services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    """

    def __init__(self, app: WSGIApplication, **options: Unpack[IssuerOptions]) -> None:
        self.app = app
        self.flow = Issuer(**options)
        self._routes = self.flow.routes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        service = self._routes.get(environ.get("PATH_INFO", ""))
        if service is None:
            return self.app(environ, start_response)
        return _response(self._sso(service, environ))(environ, start_response)

    def _sso(self, service: Service, environ: WSGIEnvironment) -> Reply:
        query = environ.get("QUERY_STRING", "")
        try:
            pending = self.flow.prepare(service, environ.get("REQUEST_METHOD", "GET"), query)
            principal = Principal.coerce(self.flow.user(Request(environ)))
            if principal is None:
                path = _text(environ, "SCRIPT_NAME") + _text(environ, "PATH_INFO")
                return self.flow.unauthenticated(original_url(path.encode("utf-8"), query))
            return self.flow.issue(pending, principal)
        except SSOError as e:
            return issuer_error(e, environ.get("HTTP_ACCEPT"))


class VerifierMiddleware:
    """The receiving side: verifies a sign-in token once, opens a session, exposes the user.

    The token is checked fully (algorithm allow-list, signature, ``exp`` or a
    maximum age, maximum lifetime, issuer/audience/type when configured,
    required claims) and its ``jti`` consumed before the session opens; the
    browser is then sent on with a 303 so the token leaves the URL. Later
    requests with the session cookie get ``environ["REMOTE_USER"]`` and
    ``environ["sso_middleware.principal"]``. ``{path}/logout`` ends the session.
    Accepted logins are recorded in ``logins`` (for tests).

    :param app: the WSGI app to wrap.
    :param key: the shared secret of a generic receiver on ``path`` (``?token=``).
    :param service: receive like this service does (``services.frill(...)``).
    :param options: see :meth:`sso_middleware.flows.Verifier.configure`.

    >>> app = VerifierMiddleware(lambda e, s: [], key="a-secret-of-at-least-thirty-two-bytes!")
    >>> app.logins
    deque([], maxlen=1000)
    """

    def __init__(self, app: WSGIApplication, **options: Unpack[VerifierOptions]) -> None:
        self.app = app
        self.flow = Verifier.configure(**options)
        self.logins = self.flow.logins

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        secure = environ.get("wsgi.url_scheme") == "https"
        action = self.flow.match(method, path, query)
        if action is not None:
            accept = environ.get("HTTP_ACCEPT")
            try:
                body = _read_form(environ) if action == "login" and method == "POST" else b""
            except SSOError as e:
                return _response(error(e, accept))(environ, start_response)
            request = Incoming(
                method, _text(environ, "SCRIPT_NAME"), _text(environ, "PATH_INFO"), query,
                secure, accept, body,
            )
            return _response(self.flow.respond(action, request))(environ, start_response)

        header = environ.get("HTTP_COOKIE")
        if not header:
            return self.app(environ, start_response)
        principal, stale = self.flow.authenticate(header, parse_cookie, _same)
        if principal is not None:
            environ["REMOTE_USER"] = str(principal.id)
            environ[PRINCIPAL_KEY] = principal
            return self.app(environ, start_response)
        if not stale:
            return self.app(environ, start_response)
        clear = self.flow.sessions.close(secure)

        def clearing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Set-Cookie", clear)], exc_info)

        return self.app(environ, clearing)


def _same(principal: Principal) -> Principal:
    return principal


def _text(environ: WSGIEnvironment, name: str) -> str:
    # PEP 3333 hands paths over as bytes decoded as latin-1; browsers send UTF-8.
    return str(environ.get(name, "")).encode("latin-1").decode("utf-8", "replace")


def _read_form(environ: WSGIEnvironment) -> bytes:
    try:
        stream = get_input_stream(environ, max_content_length=_MAX_FORM)
        body: bytes = stream.read(_MAX_FORM + 1)
    except HTTPException as e:
        raise TokenTooLarge() from e
    if len(body) > _MAX_FORM:
        raise TokenTooLarge()
    return body
