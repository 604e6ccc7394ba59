"""What every provider endpoint shares: the steps it runs, its replies, its refusals.

An endpoint is framework-free, like :mod:`sso_middleware.flows`: :meth:`Endpoint.answer` takes
the neutral :class:`~sso_middleware.messages.Request` and returns steps that yield ``None`` to
ask who the user is (the app's extractor, answered by the skin) and a :class:`StoreCall` for
the replay store (made, or awaited, by the skin), and end with the
:class:`~sso_middleware.messages.Reply`. No exception escapes: a failure is a 500 logged
with its type alone (never a token, secret or claim).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

from authlib.oauth2.base import OAuth2Error

from ..errors import BadRequest, CrossSiteRequest, RequestError, SSOError
from ..messages import NO_STORE, Reply, Request, parse_query, same_origin
from ..pages import ConfirmPageHook, ErrorPages
from ..principal import Principal
from ..replay import ReplayStore
from ..steps import AppCall, Steps, drive
from ..tokens import TokenPolicy
from .clients import Client
from .codes import Codes
from .marks import Marks
from .minting import Minter

logger = logging.getLogger("sso_middleware")


class StoreCall(NamedTuple):
    """A replay-store call an endpoint needs made: ``on.method(*args)``, or awaited
    ``on.a<method>(*args)`` (the shape of :class:`sso_middleware.flows.StoreCall`)."""

    method: str
    args: tuple[Any, ...]
    on: Any


Ask = StoreCall | AppCall | None
"""What an endpoint's steps yield: ``None`` asks for the signed-in user, an
:class:`~sso_middleware.steps.AppCall` for the app's own hook (``end_session``)."""


@dataclass(frozen=True)
class Context:
    """The provider's configuration as its endpoints read it (built by ``OpenIDProvider.routes``)."""

    issuer: str
    endpoints: Mapping[str, str]
    clients: Mapping[str, Client]
    minter: Minter
    codes: Codes
    store: ReplayStore
    clock: Callable[[], float]
    login_url: str | None
    pages: ErrorPages
    code_ttl: int
    verified_emails: bool
    metadata: Mapping[str, Any]
    marks: Marks
    consent_page: ConfirmPageHook | None = None
    end_session: Callable[[Any], Any] | None = None
    hint_policies: Mapping[str, TokenPolicy] = field(default_factory=dict)
    webfinger: frozenset[str] = frozenset()


class UnknownClient(RequestError):
    """Raised by the authorization endpoint when ``client_id`` names no configured client (an
    error page: nobody to send the browser back to)."""

    code = "unknown_client"
    status = 400
    message = "This application is not registered here, so it cannot sign you in."


class RedirectMismatch(RequestError):
    """Raised by the authorization endpoint when ``redirect_uri`` is missing or not one the
    client registered exactly (an error page, never a redirect: the code would follow it)."""

    code = "redirect_uri_mismatch"
    status = 400
    message = "This application asked to be answered at an address it has not registered."


class ServerError(RequestError):
    """Answered when an endpoint fails on something other than the request (logged, a 500): the
    sign-in endpoints' words; an endpoint that signs nobody in has its own subclass (its
    :attr:`Endpoint.failure`), with the same ``code``."""

    code = "server_error"
    status = 500
    message = "Sign-in failed on our side; please try again."


def json_reply(status: int, body: Mapping[str, Any], *headers: tuple[str, str]) -> Reply:
    """A JSON answer that no cache keeps (tokens, errors, userinfo)."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return Reply(status, (("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                          *NO_STORE, *headers), data)


def oauth_error(err: OAuth2Error) -> Reply:
    """An OAuth 2.0 error as RFC 6749 5.2 shapes it (Authlib's error classes: ``error``,
    ``error_description``, status, and ``WWW-Authenticate`` where they carry one)."""
    extra = [(k, v) for k, v in err.get_headers() if k.lower() == "www-authenticate"]
    return json_reply(int(err.status_code), dict(err.get_body()), *extra)


def refused(endpoint: str, code: str, client: Client | None = None) -> None:
    """One INFO line per refusal: endpoint, code, and the client when it is one of ours (never a
    token, a secret, a claim, or an id the request made up)."""
    if client is None:
        logger.info("refused request service=oidc endpoint=%s code=%s", endpoint, code)
    else:
        logger.info("refused request service=oidc endpoint=%s code=%s client=%s", endpoint, code,
                    client.client_id)


_FORM = "application/x-www-form-urlencoded"


def is_form(request: Request) -> bool:
    """Whether the request's body is a URL-encoded form."""
    return (request.header("content-type") or "").split(";")[0].strip().lower() == _FORM


def shown_name(principal: Principal) -> str:
    """The signed-in user as a page names them: the email, else the name, else the id (not escaped).

    >>> shown_name(Principal(7, name="Ada")), shown_name(Principal(7))
    ('Ada', '7')
    """
    return principal.email or principal.name or str(principal.id)


def form_returned(context: Context, request: Request, params: Mapping[str, str], field: str, *, purpose: str,
                  binding: str, ttl: int, endpoint: str, client: Client | None,
                  cross_site: type[CrossSiteRequest] = CrossSiteRequest) -> Reply | bool:
    """Whether our own page's form came back: ``True`` for a POST whose mark (its ``field``)
    verifies for ``purpose`` and ``binding`` within ``ttl`` seconds; ``False`` for anything else
    (no such POST, or a stale or forged mark: the page is drawn again); and when the POST came
    from another site, the refusal ``cross_site`` to answer with (logged for ``endpoint`` and
    ``client``)."""
    if request.method != "POST" or field not in params:
        return False
    if not same_origin(request):
        refused(endpoint, cross_site.code, client)
        return context.pages.reply(cross_site(), request.header("accept"))
    return context.marks.check(purpose, params[field], binding, now=context.clock(), ttl=ttl) is not None


def parameters(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named parameters of a GET's query or a POST's form (OpenID Connect Core 3.1.2.1 allows
    both); a repeated one, or a POST body that is no form, is a :class:`BadRequest`."""
    if request.method == "POST":
        if not is_form(request):
            raise BadRequest()
        return parse_query(request.body.decode("utf-8", "replace"), names)
    return parse_query(request.query, names)  # a repeated parameter is refused (RFC 6749 3.1)


class Endpoint:
    """One provider endpoint: the methods it takes, the body it reads, and its steps.

    Subclasses write :meth:`_answer`; :meth:`answer` wraps it so that nothing escapes.
    """

    name: ClassVar[str] = "endpoint"
    methods: ClassVar[tuple[str, ...]] = ("GET",)
    body_limit: ClassVar[int] = 0
    """Bytes of body the skin reads for this endpoint (0: none)."""
    failure: ClassVar[type[ServerError]] = ServerError
    """What a browser or client is told when this endpoint fails on our side (always ``server_error``)."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def answer(self, request: Request) -> Steps[Ask, Reply]:
        """The reply to ``request``, as steps (see the module); never raises. A ``HEAD`` gets
        the headers alone (RFC 9110 9.3.2)."""
        reply = yield from self._guarded(request)
        return replace(reply, body=b"") if request.method == "HEAD" and reply.body else reply

    def _guarded(self, request: Request) -> Steps[Ask, Reply]:
        try:
            if request.method not in self.methods:
                refused(self.name, "method_not_allowed")
                return self._not_allowed()
            if len(request.body) > self.body_limit:
                refused(self.name, "request_too_large")
                return json_reply(413, {"error": "invalid_request"})
            return (yield from self._answer(request))
        except Exception as e:  # a bug or a misconfiguration: logged, never a traceback to the client
            message = e.message if isinstance(e, SSOError) else type(e).__name__
            logger.error("sso_middleware oidc %s failed: %s", self.name, message)
            return self.context.pages.reply(self.failure(), request.header("accept"))

    def _not_allowed(self) -> Reply:
        return json_reply(405, {"error": "invalid_request"}, ("Allow", ", ".join(self.methods)))

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        raise NotImplementedError
        yield  # pragma: no cover

    def run(self, request: Request, user: object = None) -> Reply:
        """Answer ``request`` synchronously with ``user`` as the signed-in user (a
        :class:`~sso_middleware.Principal`, a mapping or ``None``), making store calls directly:
        for tests and scripts (the middleware drives :meth:`answer` itself)."""
        def send(call: Ask) -> Any:
            if isinstance(call, AppCall):
                return call.hook(request)  # (the neutral request stands in for the framework's)
            return user if call is None else getattr(call.on, call.method)(*call.args)

        return drive(self.answer(request), send)



__all__ = [
    "Ask",
    "Context",
    "Endpoint",
    "RedirectMismatch",
    "ServerError",
    "StoreCall",
    "UnknownClient",
    "form_returned",
    "is_form",
    "json_reply",
    "oauth_error",
    "parameters",
    "refused",
    "shown_name",
]
