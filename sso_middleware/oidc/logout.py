"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ``{prefix}/oidc/logout``.

A relying party sends the browser here with ``id_token_hint`` (an ID token this provider
issued it; expired ones too, as the spec asks), optionally ``client_id``,
``post_logout_redirect_uri`` and ``state``. The provider:

1. judges the request before anything else: the hint's signature, ``iss`` and ``aud`` (one of
   the clients), a ``client_id`` that agrees with it, and a ``post_logout_redirect_uri`` that
   is exactly one the client registered (``post_logout_redirect_uris=``). Anything wrong is an
   error page, never a redirect.
2. ends the app's session through the app's own hook, ``OpenIDProvider(end_session=...)``,
   called with the framework's request as the user extractor is; the headers it returns
   (``Set-Cookie`` clearing the app's cookie, ``Clear-Site-Data``) go out with the answer.
   Signing out must not be something any site can do to a visitor (SECURITY.md): without a
   hint naming the signed-in user, the user is asked first, on a page whose one button POSTs
   back with a mark bound to this request and user (same-origin only).
3. sends the browser to ``post_logout_redirect_uri`` with ``state``, or shows "You are
   signed out".

Without ``end_session=`` the endpoint is neither served nor advertised: the provider cannot
end a session the app keeps, and a logout that leaves the user signed in is worse than none.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..errors import ConfigurationError, InvalidToken, RequestError, SignOutRefused, SSOError
from ..keys import KeySet
from ..messages import MAX_FORM, Reply, Request, own_path, redirect
from ..pages import ConfirmView, confirm_reply, notice_reply
from ..principal import Principal
from ..redirects import with_params
from ..steps import AppCall, Steps
from ..tokens import TokenPolicy, peek, verify
from .claims import subject
from .clients import Client
from .consent import origin
from .endpoint import (
    Ask,
    Endpoint,
    RedirectMismatch,
    ServerError,
    UnknownClient,
    form_returned,
    logger,
    parameters,
    refused,
    shown_name,
)
from .marks import DECISION, LOGOUT, bound, every

PARAMS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id", "logout_hint", "ui_locales",
          LOGOUT, DECISION)
LOGOUT_TTL = 600
HEADERS = frozenset({"set-cookie", "clear-site-data"})
"""The headers an ``end_session`` hook may add to the answer."""


class InvalidLogoutRequest(RequestError):
    """Raised by the logout endpoint when ``id_token_hint`` is not an ID token this provider
    issued, or names another client than ``client_id``, or a ``post_logout_redirect_uri``
    comes without a client to judge it by (an error page, never a redirect)."""

    code = "invalid_logout_request"
    status = 400
    message = "This sign-out request is not valid, so nothing was done."
    title = "Sign-out refused"


class SignOutFailed(ServerError):
    """Answered when the logout endpoint fails on our side (the app's ``end_session`` hook raised or
    returned what it may not): the user may still be signed in, and is told so."""

    message = "Sign-out failed on our side, so you may still be signed in; please try again."
    title = "Sign-out failed"


def hint_policies(keys: KeySet, issuer: str, clients: Iterable[Client], algorithms: frozenset[str],
                  lifetime: float) -> dict[str, TokenPolicy]:
    """One policy per client: our keys and algorithms, ``iss``, ``aud`` = the client, ``typ: JWT``."""
    return {c.client_id: TokenPolicy(keys, algorithms=algorithms, issuer=(issuer,), audience=c.client_id,
                                     typ="JWT", identity=("sub",), max_lifetime=lifetime)
            for c in clients}


def read_hint(token: str, policies: Mapping[str, TokenPolicy], now: float) -> dict[str, Any]:
    """The claims of an ID token this provider issued to one of its clients, checked fully but
    for expiry (a hint may have expired: RP-Initiated Logout 1.0 section 4). Raises
    :class:`InvalidLogoutRequest`.

    >>> from sso_middleware.keys import Key, KeySet
    >>> from sso_middleware.tokens import sign
    >>> keys, wiki = KeySet([Key.generate("ES256")]), Client("wiki", redirect_uris=["https://w.acme.com/cb"])
    >>> policies = hint_policies(keys, "https://app.acme.com/sso", [wiki], frozenset({"ES256"}), 600)
    >>> claims = {"iss": "https://app.acme.com/sso", "aud": "wiki", "sub": "ada", "iat": 1000, "exp": 1300}
    >>> read_hint(sign(claims, keys.signing), policies, now=9000)["sub"]  # expired: still a hint
    'ada'
    >>> read_hint(sign(claims, Key.generate("ES256")), policies, now=9000)  # not our key
    Traceback (most recent call last):
      ...
    sso_middleware.oidc.logout.InvalidLogoutRequest: This sign-out request is not valid, so nothing was done.
    """
    peeked = peek(token)  # unverified, only to pick the policy and the time to verify at
    aud, exp = (peeked[1].get("aud"), peeked[1].get("exp")) if peeked else (None, None)
    policy = policies.get(aud) if isinstance(aud, str) else None
    if policy is None or isinstance(exp, bool) or not isinstance(exp, (int, float)) or not exp == exp:
        raise InvalidLogoutRequest()
    try:
        return verify(token, policy, min(now, float(exp) - 1)).claims  # (expiry aside, everything)
    except (InvalidToken, OverflowError, ValueError) as e:
        raise InvalidLogoutRequest() from e


class EndSession(Endpoint):
    """``GET|POST {prefix}/oidc/logout``: RP-initiated logout (see the module)."""

    name: ClassVar[str] = "end_session"
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    body_limit: ClassVar[int] = MAX_FORM
    failure: ClassVar[type[ServerError]] = SignOutFailed

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        client: Client | None = None
        try:
            params = parameters(request, PARAMS)
            hint = self._hint(params)
            client = self._client(params, hint)
            back = self._back(params, client)
        except SSOError as e:
            refused(self.name, e.code, client)
            return self.context.pages.reply(e, request.header("accept"))
        principal = Principal.coerce((yield None))
        headers: list[tuple[str, str]] = []
        if principal is not None:
            ask = self._ask(params, request, principal, hint, client)
            if ask is not None:
                return ask
            hook = self.context.end_session
            if hook is None:  # (not served without one)
                raise ConfigurationError("OpenIDProvider: end_session is not configured.")
            headers = self._headers((yield AppCall(hook)))
            logger.info("ended session service=oidc user=%r", principal.id)
        if back is None:
            return notice_reply("Signed out", "You are signed out.", *headers)
        state = params.get("state")
        return redirect(with_params(back, [("state", state)] if state is not None else []), *headers)

    def _hint(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        token = params.get("id_token_hint")
        if token is None:
            return None
        return read_hint(token, self.context.hint_policies, self.context.clock())

    def _client(self, params: Mapping[str, str], hint: Mapping[str, Any] | None) -> Client | None:
        client_id = params.get("client_id")
        if hint is not None:
            if client_id is not None and client_id != hint["aud"]:
                raise InvalidLogoutRequest()
            client_id = str(hint["aud"])
        if client_id is None:
            return None
        client = self.context.clients.get(client_id)
        if client is None:
            raise UnknownClient()
        return client

    @staticmethod
    def _back(params: Mapping[str, str], client: Client | None) -> str | None:
        uri = params.get("post_logout_redirect_uri")
        if uri is None:
            return None
        if client is None:
            raise InvalidLogoutRequest()
        if uri not in client.post_logout_redirect_uris:  # exact, as redirect_uri
            raise RedirectMismatch()
        return uri

    def _ask(self, params: Mapping[str, str], request: Request, principal: Principal,
             hint: Mapping[str, Any] | None, client: Client | None) -> Reply | None:
        """``None`` when the user may be signed out now (the hint names them, or they pressed
        the button on our page); else the page that asks (or a cross-site refusal)."""
        user = subject(principal)
        if hint is not None and hint.get("sub") == user:
            return None
        binding = bound(params, user)
        context = self.context
        answered = form_returned(context, request, params, LOGOUT, purpose="logout", binding=binding,
                                 ttl=LOGOUT_TTL, endpoint=self.name, client=client, cross_site=SignOutRefused)
        if isinstance(answered, Reply):
            return answered
        if answered:
            return None
        mark = context.marks.make("logout", "o", binding, context.clock())
        who = shown_name(principal)[:200]  # (the sentence says it again)
        asking = client.client_id if client is not None else "An application"
        view = ConfirmView(who, own_path(request), (*every(params.items()), (LOGOUT, mark)), title="Sign out",
                           message=f"{asking} asks to sign you out ({who}).", button="Sign out")
        back = params.get("post_logout_redirect_uri")
        return confirm_reply(view, context.consent_page, then=None if back is None else origin(back))

    @staticmethod
    def _headers(found: object) -> list[tuple[str, str]]:
        """What the app's hook returned: ``None``, or (name, value) pairs of :data:`HEADERS`."""
        if found is None:
            return []
        if inspect.iscoroutine(found):  # an async hook on WSGI: nothing will await it
            found.close()
        if inspect.isawaitable(found) or not isinstance(found, Iterable) or isinstance(found, (str, bytes)):
            raise ConfigurationError("OpenIDProvider: end_session must return None or a list of (name, "
                                     "value) headers (an async hook only on ASGI).")
        headers = []
        for pair in found:
            if (not isinstance(pair, tuple) or len(pair) != 2 or not all(isinstance(x, str) for x in pair)
                    or pair[0].lower() not in HEADERS or any(c in pair[1] for c in "\r\n")):
                raise ConfigurationError("OpenIDProvider: end_session may return only Set-Cookie and "
                                         "Clear-Site-Data headers, as (name, value) string pairs.")
            headers.append(pair)
        return headers


__all__ = ["EndSession", "InvalidLogoutRequest", "SignOutFailed", "hint_policies", "read_hint"]
