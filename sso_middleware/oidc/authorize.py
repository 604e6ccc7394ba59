"""The authorization endpoint: checks the request, asks who the user is, sends a code back.

Order matters. The client and its ``redirect_uri`` are judged first, and a failure there is an
error page, never a redirect (the code, or the error, would go wherever the URI points). Every
other problem goes back to the client's registered URI as ``error=`` with the ``state``
echoed. Only then is the user asked for; nobody signed in goes to ``login_url?next=`` (and the
flow resumes at this very URL), or, with ``prompt=none``, back to the client with
``error=login_required``. A signed-in user who must sign in again (``prompt=login``, a session
older than ``max_age``) goes to the login page too, and the resumed request never goes there a
second time (see :mod:`.freshness`). A client marked ``trusted=False`` (or a request with
``prompt=consent``) then gets a consent page (see :mod:`.consent`) before a code is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlencode

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, UnsupportedResponseTypeError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN
from authlib.oidc.core.errors import LoginRequiredError, RequestNotSupportedError, RequestURINotSupportedError

from ..errors import BadRequest, SSOError
from ..messages import MAX_FORM, Reply, Request, own_path, redirect
from ..principal import Principal
from ..redirects import with_params
from ..steps import Steps
from .claims import user_claims
from .clients import Client
from .codes import Grant
from .consent import consent
from .endpoint import Ask, Endpoint, RedirectMismatch, UnknownClient, logger, parameters, refused
from .freshness import MARK_TTL, CannotTell, MustSignIn, authenticated_at
from .marks import CONSENT, DECISION, LOGIN, bound, every

PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
          "code_challenge_method", "prompt", "response_mode", "request", "request_uri", "max_age",
          LOGIN, CONSENT, DECISION)
MAX_NONCE = 512
MAX_STATE = 2048
PROMPTS = frozenset({"none", "login", "consent", "select_account"})


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """An authorization request that passed every check but the user's."""

    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    challenge: str | None
    prompts: frozenset[str] = frozenset()
    max_age: int | None = None

    @property
    def silent(self) -> bool:
        """``prompt=none``: no page may be shown; an error goes back instead."""
        return "none" in self.prompts


def _pkce(params: Mapping[str, str], client: Client) -> str | None:
    """The S256 code challenge (``plain`` refused; required for public clients)."""
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method without code_challenge.")
        if client.require_pkce:
            raise InvalidRequestError("PKCE with S256 is required for this client.")
        return None
    if method != "S256":  # an absent method means plain (RFC 7636 4.3), which is refused too
        raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
    if not CODE_CHALLENGE_PATTERN.fullmatch(challenge):
        raise InvalidRequestError("Malformed code_challenge.")
    return challenge


def _prompt(params: Mapping[str, str]) -> tuple[frozenset[str], int | None]:
    """The ``prompt`` values (unknown ones ignored; ``none`` with another is refused) and
    ``max_age`` in seconds."""
    prompts = frozenset((params.get("prompt") or "").split()) & PROMPTS
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) < 12):
        raise InvalidRequestError("max_age must be a whole number of seconds.")
    return prompts, None if max_age is None else int(max_age)


def check_request(params: Mapping[str, str], client: Client, redirect_uri: str) -> AuthorizationRequest:
    """Everything but the client and the user: raises Authlib's OAuth 2.0 errors (sent back to
    the client)."""
    if "request" in params:
        raise RequestNotSupportedError()
    if "request_uri" in params:
        raise RequestURINotSupportedError()
    if params.get("response_type") != "code":
        raise UnsupportedResponseTypeError("Only response_type=code is supported.")
    if params.get("response_mode", "query") != "query":
        raise InvalidRequestError("Only response_mode=query is supported.")
    asked = scope_to_list(params.get("scope") or "") or []
    if "openid" not in asked:
        raise InvalidScopeError("The scope must include openid.")
    scope = tuple(dict.fromkeys(s for s in asked if s in client.scopes))  # others are dropped
    nonce = params.get("nonce")
    if nonce is not None and (not nonce or len(nonce) > MAX_NONCE):
        raise InvalidRequestError("Malformed nonce.")
    challenge = _pkce(params, client)
    prompts, max_age = _prompt(params)
    return AuthorizationRequest(client, redirect_uri, scope, params.get("state"), nonce, challenge,
                                prompts, max_age)


class Authorize(Endpoint):
    """``GET|POST {prefix}/oidc/authorize``: the authorization code flow's first leg."""

    name: ClassVar[str] = "authorize"
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    body_limit: ClassVar[int] = MAX_FORM

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        try:
            params = parameters(request, PARAMS)
            client, redirect_uri = self._client(params)
        except SSOError as e:
            refused(self.name, e.code)
            return self.context.pages.reply(e, request.header("accept"))
        state = params.get("state")
        try:
            asked = check_request(params, client, redirect_uri)
        except OAuth2Error as e:
            return self._back(redirect_uri, e, state, client)
        principal = Principal.coerce((yield None))
        try:
            return self._signed_in(asked, principal, params, request)
        except OAuth2Error as e:
            return self._back(redirect_uri, e, state, client)

    def _signed_in(self, asked: AuthorizationRequest, principal: Principal | None, params: Mapping[str, str],
                   request: Request) -> Reply:
        """Who the user is, how recently they signed in, their consent; raises the OAuth 2.0 error
        the client gets."""
        now = self.context.clock()
        if principal is None:
            return self._to_login(asked, request, params, now, anonymous=True)
        mark = self.context.marks.check("login", params.get(LOGIN), bound(params), now=now, ttl=MARK_TTL)
        resumed = None if mark is None else (mark.issued, mark.flag == "a")
        try:
            auth_time = authenticated_at(asked.prompts, asked.max_age, principal, resumed, now)
        except MustSignIn:
            return self._to_login(asked, request, params, now, anonymous=False)
        except CannotTell as e:
            raise LoginRequiredError(description=str(e)) from e
        if not asked.client.trusted or "consent" in asked.prompts:
            page = consent(self.context, asked.client, principal, asked.scope, asked.silent, params,
                           request)
            if page is not None:
                return page
        return self._issue(asked, principal, auth_time)

    def _to_login(self, asked: AuthorizationRequest, request: Request, params: Mapping[str, str], now: float,
                  *, anonymous: bool) -> Reply:
        """To ``login_url?next=`` this request, marked so that it resumes (``prompt=login`` added
        when a signed-in user must sign in again); ``login_required`` when no page may be shown."""
        login_url = self.context.login_url
        if asked.silent or login_url is None:
            raise LoginRequiredError()
        mark = self.context.marks.make("login", "a" if anonymous else "s", bound(params), now)
        resume = f"{own_path(request)}?{urlencode([*every(params.items()), (LOGIN, mark)])}"
        again = [] if anonymous else [("prompt", "login")]  # (the login page must ask even a signed-in user)
        return redirect(with_params(login_url, [("next", resume), *again]))

    def _client(self, params: Mapping[str, str]) -> tuple[Client, str]:
        client = self.context.clients.get(params.get("client_id") or "")
        if client is None:
            raise UnknownClient()
        uri = params.get("redirect_uri")
        if uri is None or uri not in client.redirect_uris:  # exact: no prefix, no normalising
            raise RedirectMismatch()
        state = params.get("state")
        if state is not None and len(state) > MAX_STATE:
            raise BadRequest()
        return client, uri

    def _back(self, redirect_uri: str, err: OAuth2Error, state: str | None, client: Client) -> Reply:
        """The error, to the client's registered URI (RFC 6749 4.1.2.1), ``iss`` added (RFC 9207)."""
        refused(self.name, str(err.error), client)
        params = [(k, str(v)) for k, v in err.get_body() if k != "state"]
        if state is not None:
            params.append(("state", state))
        params.append(("iss", self.context.issuer))
        return redirect(with_params(redirect_uri, params))

    def _issue(self, asked: AuthorizationRequest, principal: Principal, auth_time: int) -> Reply:
        context, client = self.context, asked.client
        now = context.clock()
        claims = user_claims(principal, client, asked.scope, verified_emails=context.verified_emails)
        grant = Grant(client.client_id, asked.redirect_uri, asked.scope, claims, auth_time,
                      now + context.code_ttl, asked.nonce, asked.challenge)
        params = [("code", context.codes.seal(grant))]
        if asked.state is not None:
            params.append(("state", asked.state))
        params.append(("iss", context.issuer))
        logger.info("issued code service=oidc client=%s user=%r", client.client_id, principal.id)
        return redirect(with_params(asked.redirect_uri, params))


__all__ = ["AuthorizationRequest", "Authorize", "check_request"]
