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
    """The middleware or a service is configured wrongly (raised at construction)."""

    code = "configuration_error"
    status = 500


class RequestError(SSOError):
    """A request or token is wrong. The message is constant per class."""


# -- issuer side --------------------------------------------------------------


class MethodNotAllowed(RequestError):
    code = "method_not_allowed"
    status = 405
    message = "This single sign-on address only accepts GET."


class NotAuthenticated(RequestError):
    code = "not_authenticated"
    status = 401
    message = "You need to sign in before you can continue to this service."
    title = "Please sign in"


class MissingClaim(RequestError):
    """The signed-in user lacks a value the service requires (names the claim)."""

    code = "missing_claim"
    status = 400

    def __init__(self, claim: str) -> None:
        # The claim name comes from configuration, never from the request.
        self.claim = claim
        super().__init__(f"Your account has no {claim!s}, which this service requires.")


class RedirectNotAllowed(RequestError):
    code = "redirect_not_allowed"
    status = 400
    message = (
        "The address this service asked to return to is not on its list of allowed "
        "addresses, so no sign-in was sent."
    )


class RedirectMissing(RequestError):
    code = "redirect_missing"
    status = 400
    message = "This service did not say where to return to, and no default is configured."


class CrossSiteRequest(RequestError):
    code = "cross_site_request"
    status = 403
    message = "This request came from another site, so it was refused."


class SignOutRefused(CrossSiteRequest):
    """Raised when a sign-out request did not come from this site's own pages (so a page on
    another site cannot sign anyone out)."""

    message = "Sign-out refused: the request did not come from this site."
    title = "Sign-out refused"


class BadRequest(RequestError):
    code = "bad_request"
    status = 400
    message = "The request is malformed."


# -- verifier side --------------------------------------------------------------


class InvalidToken(RequestError):
    """Base of every token failure; on its own: the token is malformed."""

    code = "token_invalid"
    status = 400
    message = "The sign-in token is malformed."


class TokenMissing(InvalidToken):
    code = "token_missing"
    status = 400
    message = "No sign-in token was sent."


class TokenTooLarge(InvalidToken):
    code = "token_too_large"
    status = 400
    message = "The sign-in token is too large."


class InvalidAlgorithm(InvalidToken):
    code = "token_algorithm_not_allowed"
    status = 401
    message = "The sign-in token uses an algorithm that is not allowed."


class UnknownKey(InvalidToken):
    code = "token_unknown_key"
    status = 401
    message = "The sign-in token names a key that is not configured."


class InvalidSignature(InvalidToken):
    code = "token_bad_signature"
    status = 401
    message = "The sign-in token's signature is not valid."


class TokenExpired(InvalidToken):
    code = "token_expired"
    status = 401
    message = "The sign-in token has expired. Please sign in again."


class TokenNotYetValid(InvalidToken):
    code = "token_not_yet_valid"
    status = 401
    message = "The sign-in token is not valid yet."


class TokenLifetimeTooLong(InvalidToken):
    code = "token_lifetime_too_long"
    status = 401
    message = "The sign-in token is valid for longer than allowed."


class InvalidClaim(InvalidToken):
    """A claim is present but wrong (type, issuer, audience, type header)."""

    code = "token_invalid_claim"
    status = 401

    def __init__(self, claim: str) -> None:
        self.claim = claim
        super().__init__(f"The sign-in token's {claim!s} claim is not valid.")


class MissingTokenClaim(InvalidToken):
    code = "token_missing_claim"
    status = 401

    def __init__(self, claim: str) -> None:
        self.claim = claim
        super().__init__(f"The sign-in token has no {claim!s} claim.")


class TokenReplayed(InvalidToken):
    code = "token_replayed"
    status = 401
    message = "This sign-in token has already been used. Please sign in again."


class ReplayStoreUnavailable(RequestError):
    code = "replay_store_unavailable"
    status = 503
    message = "Sign-in is temporarily unavailable. Please try again."


class SessionRevoked(RequestError):
    code = "session_revoked"
    status = 401
    message = "This session has ended. Please sign in again."


class ReplayStoreFull(ReplayStoreUnavailable):
    code = "replay_store_full"
    status = 503
    message = "Too many sign-ins at once. Please try again in a moment."


class KeysUnavailable(RequestError):
    """The verifier's JWKS URL could not be fetched, and no key it holds matches the token."""

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
