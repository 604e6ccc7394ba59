"""The one exception tree of sso_middleware.

Two branches: :class:`ConfigurationError` is raised while a middleware or a
service is being built ("your setup is wrong", long message saying how to fix
it); :class:`RequestError` is raised while handling a request ("this request or
token is wrong"), carries an HTTP ``status`` and a short, constant message that
may be shown to a browser. Request-time messages never contain the token, a key
or anything the request sent.
"""

from __future__ import annotations


class SSOError(Exception):
    """Root of every error this library raises.

    ``code`` is stable and machine-readable; ``status`` is the HTTP status a
    middleware answers with.

    >>> try:
    ...     raise TokenExpired()
    ... except SSOError as e:
    ...     (e.code, e.status)
    ('token_expired', 401)
    """

    code: str = "sso_error"
    status: int = 400
    message: str = "Single sign-on failed."
    title: str = "Sign-in failed"
    """The heading of the page a browser is shown."""
    detail: str = ""
    """What the log line adds (a refused host, a timeout): safe to log, never shown to the browser."""

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        if message is not None:
            self.message = message
        self.detail = detail
        super().__init__(self.message)


class ConfigurationError(SSOError, ValueError):
    """Raised while a middleware or a service is being built, when its configuration is wrong
    (the message says how to fix it)."""

    code = "configuration_error"
    status = 500


class RequestError(SSOError):
    """Raised while a request is handled, when the request or its token is wrong. The message is
    constant per class."""


# -- issuer side --------------------------------------------------------------


class MethodNotAllowed(RequestError):
    """Raised when an address the middleware owns is asked with a method it does not take."""

    code = "method_not_allowed"
    status = 405
    message = "This single sign-on address only accepts GET."


class NotAuthenticated(RequestError):
    """Raised when nobody is signed in to the app and the service needs someone (a login path
    without ``login_url``, or a token a page fetches)."""

    code = "not_authenticated"
    status = 401
    message = "You need to sign in before you can continue to this service."
    title = "Please sign in"


class MissingClaim(RequestError):
    """Raised when the signed-in user lacks a value the service requires (it names the claim)."""

    code = "missing_claim"
    status = 400

    def __init__(self, claim: str) -> None:
        # The claim name comes from configuration, never from the request.
        self.claim = claim
        super().__init__(f"Your account has no {claim!s}, which this service requires.")


class RedirectNotAllowed(RequestError):
    """Raised when a return URL is not on the service's allow-list (https, a listed host, no
    userinfo, backslash or control character)."""

    code = "redirect_not_allowed"
    status = 400
    message = (
        "The address this service asked to return to is not on its list of allowed "
        "addresses, so no sign-in was sent."
    )


class RedirectMissing(RequestError):
    """Raised when a service needs a return URL and the login request brought none."""

    code = "redirect_missing"
    status = 400
    message = "This service did not say where to return to, and no default is configured."


class CrossSiteRequest(RequestError):
    """Raised when a request that must come from this site's own pages came from another site."""

    code = "cross_site_request"
    status = 403
    message = "This request came from another site, so it was refused."


class SignOutRefused(CrossSiteRequest):
    """Raised when a sign-out request did not come from this site's own pages (so a page on
    another site cannot sign anyone out)."""

    message = "Sign-out refused: the request did not come from this site."
    title = "Sign-out refused"


class BadRequest(RequestError):
    """Raised when the request itself is malformed (a repeated parameter, an oversized query)."""

    code = "bad_request"
    status = 400
    message = "The request is malformed."


# -- verifier side --------------------------------------------------------------


class InvalidToken(RequestError):
    """Raised when a token is malformed; the base of every token failure."""

    code = "token_invalid"
    status = 400
    message = "The sign-in token is malformed."


class TokenMissing(InvalidToken):
    """Raised when a request to a receiving address carries no token."""

    code = "token_missing"
    status = 400
    message = "No sign-in token was sent."


class TokenTooLarge(InvalidToken):
    """Raised when a token is longer than the receiver accepts."""

    code = "token_too_large"
    status = 400
    message = "The sign-in token is too large."


class InvalidAlgorithm(InvalidToken):
    """Raised when a token names an algorithm the receiver does not take (``none`` never is)."""

    code = "token_algorithm_not_allowed"
    status = 401
    message = "The sign-in token uses an algorithm that is not allowed."


class UnknownKey(InvalidToken):
    """Raised when a token's ``kid`` names no key the receiver holds."""

    code = "token_unknown_key"
    status = 401
    message = "The sign-in token names a key that is not configured."


class InvalidSignature(InvalidToken):
    """Raised when a token's signature does not verify with any key that may have signed it."""

    code = "token_bad_signature"
    status = 401
    message = "The sign-in token's signature is not valid."


class TokenExpired(InvalidToken):
    """Raised when a token's ``exp`` (or its maximum age) has passed, beyond the leeway."""

    code = "token_expired"
    status = 401
    message = "The sign-in token has expired. Please sign in again."


class TokenNotYetValid(InvalidToken):
    """Raised when a token's ``nbf`` or ``iat`` is in the future, beyond the leeway."""

    code = "token_not_yet_valid"
    status = 401
    message = "The sign-in token is not valid yet."


class TokenLifetimeTooLong(InvalidToken):
    """Raised when a token is valid for longer than the receiver's maximum lifetime."""

    code = "token_lifetime_too_long"
    status = 401
    message = "The sign-in token is valid for longer than allowed."


class InvalidClaim(InvalidToken):
    """Raised when a claim is present but wrong (its type, issuer, audience, or the type header)."""

    code = "token_invalid_claim"
    status = 401

    def __init__(self, claim: str) -> None:
        self.claim = claim
        super().__init__(f"The sign-in token's {claim!s} claim is not valid.")


class MissingTokenClaim(InvalidToken):
    """Raised when a claim the receiver requires is absent (``exp``, ``iss``, ``aud``, the
    identity, a service's own)."""

    code = "token_missing_claim"
    status = 401

    def __init__(self, claim: str) -> None:
        self.claim = claim
        super().__init__(f"The sign-in token has no {claim!s} claim.")


class TokenReplayed(InvalidToken):
    """Raised when a token's one-time id was already used."""

    code = "token_replayed"
    status = 401
    message = "This sign-in token has already been used. Please sign in again."


class ReplayStoreUnavailable(RequestError):
    """Raised when the replay store cannot answer (fail closed: the token is not burnt)."""

    code = "replay_store_unavailable"
    status = 503
    message = "Sign-in is temporarily unavailable. Please try again."


class SessionRevoked(RequestError):
    """Raised when a session cookie names a session that was signed out."""

    code = "session_revoked"
    status = 401
    message = "This session has ended. Please sign in again."


class ReplayStoreFull(ReplayStoreUnavailable):
    """Raised when the in-memory replay store is full of live one-time ids (fail closed)."""

    code = "replay_store_full"
    status = 503
    message = "Too many sign-ins at once. Please try again in a moment."


class KeysUnavailable(RequestError):
    """Raised when the verifier's JWKS URL could not be fetched and no key it holds matches the token."""

    code = "keys_unavailable"
    status = 503
    message = "Sign-in is temporarily unavailable. Please try again."


__all__ = [
    "BadRequest",
    "ConfigurationError",
    "CrossSiteRequest",
    "InvalidAlgorithm",
    "InvalidClaim",
    "InvalidSignature",
    "InvalidToken",
    "KeysUnavailable",
    "MethodNotAllowed",
    "MissingClaim",
    "MissingTokenClaim",
    "NotAuthenticated",
    "RedirectMissing",
    "RedirectNotAllowed",
    "ReplayStoreFull",
    "ReplayStoreUnavailable",
    "RequestError",
    "SSOError",
    "SessionRevoked",
    "SignOutRefused",
    "TokenExpired",
    "TokenLifetimeTooLong",
    "TokenMissing",
    "TokenNotYetValid",
    "TokenReplayed",
    "TokenTooLarge",
    "UnknownKey",
]
