"""The token endpoint: authenticates the client, redeems a code once, answers with tokens.

Everything that can fail on the request (client authentication, the code's seal, expiry,
client, ``redirect_uri`` and PKCE verifier) is checked before the code's one-time id is
claimed in the replay store; nothing after the claim can fail on the request. A code
presented again is ``invalid_grant``, and the tokens its first use issued are revoked in the
same store (userinfo refuses them from then on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import parse_qsl

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, create_s256_code_challenge

from ..errors import ReplayStoreUnavailable
from ..keys import same_secret
from ..messages import MAX_FORM, Reply, Request
from ..steps import Steps
from .clients import Client
from .codes import Grant, InvalidCode
from .endpoint import Ask, Endpoint, StoreCall, is_form, json_reply, logger, oauth_error, refused

PARAMS = frozenset({"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret"})
_DUMMY = b"\x00" * 32  # compared against when the client is unknown, so timing says nothing


def read_form(request: Request) -> dict[str, str]:
    """The form's parameters; a repeated one, or a body that is no form, is ``invalid_request``."""
    if not is_form(request):
        raise InvalidRequestError("The token request must be an application/x-www-form-urlencoded POST.")
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as e:
        raise InvalidRequestError("The form is not UTF-8.") from e
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in PARAMS:
            if name in form:
                raise InvalidRequestError(f"Repeated parameter {name}.")
            form[name] = value
    return form


def credentials(request: Request, form: Mapping[str, str]) -> tuple[str | None, str | None, bool]:
    """``(client_id, secret, by_basic)`` from HTTP Basic (Authlib's parser) or the form; both at
    once is ``invalid_request`` (RFC 6749 2.3)."""
    try:
        header = {"Authorization": request.header("authorization")}
        basic_id, basic_secret = extract_basic_authorization(header)
    except ValueError as e:  # not UTF-8
        raise InvalidClientError(status_code=401, description="Client authentication failed.") from e
    if basic_id is None:
        return form.get("client_id"), form.get("client_secret"), False
    if "client_secret" in form or form.get("client_id", basic_id) != basic_id:
        raise InvalidRequestError("Use one client authentication method.")
    return basic_id, basic_secret, True


def authenticate(request: Request, form: Mapping[str, str], clients: Mapping[str, Client]) -> Client:
    """The client: HTTP Basic (``client_secret_basic``), the form (``client_secret_post``), or
    ``client_id`` alone for a public client (``none``, PKCE then proves it). Secrets are
    compared in constant time."""
    client_id, secret, by_basic = credentials(request, form)
    basic_id = client_id if by_basic else None
    client = clients.get(client_id or "")
    expected = client.secret if client is not None else None
    if secret is None:
        if client is None or not client.public:
            raise InvalidClientError(status_code=401 if basic_id is not None else 400,
                                     description="Client authentication failed.")
        return client
    good = same_secret(secret, expected if expected is not None else _DUMMY)
    if client is None or expected is None or not good:
        raise InvalidClientError(status_code=401 if basic_id is not None else 400,
                                 description="Client authentication failed.")
    return client


def check_grant(grant: Grant, form: Mapping[str, str], client: Client) -> None:
    """The code was issued to this client, for this ``redirect_uri``, and this verifier
    matches its S256 challenge (Authlib's RFC 7636 helpers; compared in constant time)."""
    if grant.client_id != client.client_id:
        raise InvalidGrantError("The code was not issued to this client.")
    if form.get("redirect_uri") != grant.redirect_uri:
        raise InvalidGrantError("redirect_uri differs from the authorization request's.")
    verifier = form.get("code_verifier")
    if grant.challenge is None:
        if verifier is not None:  # RFC 9700 2.1.1: a verifier without a challenge is an attack
            raise InvalidGrantError("code_verifier without a code_challenge.")
        return
    if verifier is None or not CODE_VERIFIER_PATTERN.fullmatch(verifier):
        raise InvalidGrantError("Missing or malformed code_verifier.")
    if not same_secret(create_s256_code_challenge(verifier), grant.challenge):
        raise InvalidGrantError("code_verifier does not match the code_challenge.")


def revocation(grant: Grant) -> tuple[str, str]:
    """The (user, session) names under which a grant's tokens are revoked in the replay store."""
    return f"oidc\x1f{grant.client_id}\x1f{grant.subject}", grant.id


class Token(Endpoint):
    """``POST {prefix}/oidc/token``: ``grant_type=authorization_code`` only."""

    name: ClassVar[str] = "token"
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    body_limit: ClassVar[int] = MAX_FORM

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        context = self.context
        client: Client | None = None
        now = context.clock()
        try:
            form = read_form(request)
            client = authenticate(request, form, context.clients)
            if form.get("grant_type") != "authorization_code":
                raise UnsupportedGrantTypeError("Only grant_type=authorization_code is supported.")
            try:
                grant = context.codes.open(form.get("code") or "", now)
            except InvalidCode as e:
                raise InvalidGrantError("The code is invalid or expired.") from e
            check_grant(grant, form, client)
        except OAuth2Error as e:
            refused(self.name, str(e.error), client)
            return oauth_error(e)
        try:
            once = "oidc-code\x1f" + grant.id
            first = yield StoreCall("claim", (once, grant.expires + 60, now), context.store)
            if not first:
                user, session = revocation(grant)
                ttl = context.minter.access_token_ttl + 60
                yield StoreCall("revoke", (user, session, now, now + ttl, now), context.store)
        except Exception as e:  # the store could not answer: fail closed, the code stays good
            refused(self.name, ReplayStoreUnavailable.code, client)
            logger.warning("replay store failed at the token endpoint: %s", type(e).__name__)
            return json_reply(503, {"error": "temporarily_unavailable"}, ("Retry-After", "1"))
        if not first:
            refused(self.name, "code_replayed", client)
            return oauth_error(InvalidGrantError("The code was already used."))
        return self._tokens(grant, client, int(now))

    def _tokens(self, grant: Grant, client: Client, now: int) -> Reply:
        minter = self.context.minter
        access = minter.access_token(grant, now)
        id_token = minter.id_token(grant, client.algorithm, now, access)  # (its key: checked at start)
        logger.info("issued tokens service=oidc client=%s", client.client_id)
        return json_reply(200, {"access_token": access, "token_type": "Bearer",
                                "expires_in": minter.access_token_ttl, "id_token": id_token,
                                "scope": " ".join(grant.scope)})


__all__ = ["Token", "authenticate", "check_grant", "read_form", "revocation"]
