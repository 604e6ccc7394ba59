"""The authorization endpoint: checks the request, asks who the user is, sends a code back.

Order matters. The client and its ``redirect_uri`` are judged first, and a failure there is an
error page, never a redirect (the code, or the error, would go wherever the URI points). Every
other problem goes back to the client's registered URI as ``error=`` with the ``state``
echoed. Only then is the user asked for; nobody signed in goes to ``login_url?next=`` (and the
flow resumes at this very URL), or, with ``prompt=none``, back to the client with
``error=login_required``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, UnsupportedResponseTypeError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN
from authlib.oidc.core.errors import LoginRequiredError, RequestNotSupportedError, RequestURINotSupportedError

from ..errors import BadRequest, SSOError
from ..messages import MAX_FORM, Reply, Request, parse_query, redirect
from ..principal import Principal
from ..redirects import with_params
from ..steps import Steps
from .claims import user_claims
from .clients import Client
from .codes import Grant
from .endpoint import Ask, Endpoint, RedirectMismatch, UnknownClient, is_form, logger, refused

PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
          "code_challenge_method", "prompt", "response_mode", "request", "request_uri", "max_age")
MAX_NONCE = 512
MAX_STATE = 2048


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """An authorization request that passed every check but the user's."""

    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    challenge: str | None
    silent: bool


def _original_url(request: Request) -> str:
    url = quote((request.root + request.path).encode("utf-8"))
    return f"{url}?{request.query}" if request.query else url


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


def _prompt(params: Mapping[str, str]) -> bool:
    """Whether ``prompt=none`` (silent) was asked; ``none`` with another value is refused."""
    prompts = set((params.get("prompt") or "").split())
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isdigit() and len(max_age) < 12):
        raise InvalidRequestError("max_age must be a whole number of seconds.")
    return "none" in prompts


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
    return AuthorizationRequest(client, redirect_uri, scope, params.get("state"), nonce, challenge,
                                _prompt(params))


class Authorize(Endpoint):
    """``GET|POST {prefix}/oidc/authorize``: the authorization code flow's first leg."""

    name: ClassVar[str] = "authorize"
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    body_limit: ClassVar[int] = MAX_FORM

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        try:
            params = self._params(request)
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
        if principal is None:
            if asked.silent or self.context.login_url is None:
                return self._back(redirect_uri, LoginRequiredError(), state, client)
            return redirect(with_params(self.context.login_url, [("next", _original_url(request))]))
        return self._issue(asked, principal)

    def _params(self, request: Request) -> dict[str, str]:
        if request.method == "POST":
            if not is_form(request):
                raise BadRequest()
            return parse_query(request.body.decode("utf-8", "replace"), PARAMS)
        return parse_query(request.query, PARAMS)  # a repeated parameter is refused (RFC 6749 3.1)

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

    def _issue(self, asked: AuthorizationRequest, principal: Principal) -> Reply:
        context, client = self.context, asked.client
        now = context.clock()
        auth_time = principal.attributes.get("auth_time")
        if isinstance(auth_time, bool) or not isinstance(auth_time, (int, float)) or not (
                math.isfinite(auth_time) and 0 < auth_time <= now):
            auth_time = now  # the app did not say when the user signed in: now is when we know they were
        claims = user_claims(principal, client, asked.scope, verified_emails=context.verified_emails)
        grant = Grant(client.client_id, asked.redirect_uri, asked.scope, claims, int(auth_time),
                      now + context.code_ttl, asked.nonce, asked.challenge)
        params = [("code", context.codes.seal(grant))]
        if asked.state is not None:
            params.append(("state", asked.state))
        params.append(("iss", context.issuer))
        logger.info("issued code service=oidc client=%s user=%r", client.client_id, principal.id)
        return redirect(with_params(asked.redirect_uri, params))


__all__ = ["AuthorizationRequest", "Authorize", "check_request"]
