"""A relying party the provider signs users in to: its id, secret, exact redirect URIs, scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..keys import stray_whitespace
from ..principal import Principal

SCOPES = ("openid", "profile", "email", "groups")
"""The scopes the provider knows (``openid`` is required on every request)."""
RESERVED = frozenset({
    "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "azp", "at_hash", "c_hash",
    "acr", "amr", "sid", "client_id", "scope", "cnf", "userinfo",
})
"""Claims the provider sets itself: a client's ``extra_claims`` may not name them."""
ALGORITHMS = ("RS256", "ES256", "EdDSA")
MIN_SECRET = 16
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")

ExtraClaims = Mapping[str, Any] | Callable[[Principal], Mapping[str, Any]]


def _redirect_uri(uri: object, client_id: str, field: str = "redirect_uris") -> str:
    """An exact redirect URI: absolute, https (http for loopback only, RFC 8252), no fragment."""
    where = f"Client({client_id!r}): {field}"
    if not isinstance(uri, str) or not uri or not uri.isprintable() or any(c in uri for c in " \\\t"):
        raise ConfigurationError(f"{where}: {uri!r} is not a URL; list each redirect URI the service "
                                 "shows in its admin form, exactly as it shows it.")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ConfigurationError(f"{where}: {uri!r} has a fragment; redirect URIs may not (RFC 6749 3.1.2).")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{where}: {uri!r} carries a user name or password; remove it.")
    loopback = parts.scheme == "http" and (parts.netloc.rpartition(":")[0] or parts.netloc) in _LOOPBACK
    if parts.scheme != "https" and not loopback:
        raise ConfigurationError(
            f"{where}: {uri!r} is not https. Codes travel in this URL: only https is accepted (plain "
            "http only for localhost / 127.0.0.1, for a service on your own machine)."
        )
    if not parts.hostname:
        raise ConfigurationError(f"{where}: {uri!r} names no host.")
    return uri


class Client:
    """One relying party (Grafana, Metabase, Outline, ...), configured by the app, so trusted.

    A redirect URI must match one of ``redirect_uris`` exactly, character for character: an
    unknown client or a mismatching URI gets an error page and is never redirected to, because
    the code would go wherever the URI points. A client with a ``secret`` (confidential)
    authenticates at the token endpoint with it (HTTP Basic or in the form, compared in constant
    time) and may use PKCE; a client without one (public: a single-page app, a CLI) must use
    PKCE with S256 on every request.

    :param client_id: the id you type into the service's admin form.
    :param secret: the client secret you type there too (at least 16 characters; ``None`` for a
        public client).
    :param redirect_uris: the callback URLs the service shows in its admin form, exactly.
    :param scopes: the scopes this client may receive (default: all of ``openid profile email
        groups``); others it asks for are dropped.
    :param extra_claims: claims added to this client's ID token and userinfo (a mapping, or a
        ``callable(Principal) -> mapping``), as presets' ``extra_claims``; standard
        claims such as ``sub`` or ``aud`` cannot be overridden.
    :param algorithm: the ID token's algorithm (``RS256``, the default relying parties assume;
        ``ES256`` or ``EdDSA`` when the service asks for it and the provider holds such a key).
    :param require_pkce: refuse requests without PKCE from this confidential client too.
    :param trusted: ``True`` (the default: you configured the client, so your users need not be
        asked): no consent page. ``False``: every authorization shows the user a page naming the
        client and what it receives, with "Continue" and "Cancel" (``error=access_denied``);
        nothing is remembered, so the page comes every time.
    :param post_logout_redirect_uris: where the client may send the browser after RP-initiated
        logout (``post_logout_redirect_uri``), exactly as the service shows them; https (http for
        loopback only).

    >>> grafana = Client("grafana", secret="grafana-client-secret-0123456789",
    ...                  redirect_uris=["https://grafana.acme.com/login/generic_oauth"])
    >>> grafana, grafana.public
    (Client('grafana'), False)
    """

    __slots__ = ("algorithm", "client_id", "extra_claims", "post_logout_redirect_uris", "redirect_uris",
                 "require_pkce", "scopes", "secret", "trusted")

    def __init__(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        redirect_uris: Iterable[str],
        scopes: Iterable[str] = SCOPES,
        extra_claims: ExtraClaims | None = None,
        algorithm: str = "RS256",
        require_pkce: bool = False,
        trusted: bool = True,
        post_logout_redirect_uris: Iterable[str] = (),
    ) -> None:
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 200 or not client_id.isprintable():
            raise ConfigurationError(f"Client: client_id {client_id!r} must be a short printable string, "
                                     "e.g. 'grafana': you type the same id into the service's form.")
        self.client_id = client_id
        self.secret: bytes | None = self._secret(secret)
        if isinstance(redirect_uris, str):
            raise ConfigurationError(f"Client({client_id!r}): redirect_uris is a list; write "
                                     f"redirect_uris=[{redirect_uris!r}].")
        self.redirect_uris = frozenset(_redirect_uri(uri, client_id) for uri in redirect_uris)
        if not self.redirect_uris:
            raise ConfigurationError(f"Client({client_id!r}): list at least one redirect URI, exactly as "
                                     "the service's admin form shows its callback URL.")
        self.scopes = self._scopes(scopes)
        if extra_claims is not None and not callable(extra_claims) and not isinstance(extra_claims, Mapping):
            raise ConfigurationError(f"Client({client_id!r}): extra_claims is a mapping or a "
                                     "callable(Principal) returning one.")
        if isinstance(extra_claims, Mapping):
            self._no_reserved(extra_claims)
            extra_claims = MappingProxyType(dict(extra_claims))
        self.extra_claims: ExtraClaims | None = extra_claims
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(f"Client({client_id!r}): algorithm {algorithm!r}; use one of "
                                     f"{', '.join(ALGORITHMS)} (RS256 is what relying parties assume).")
        self.algorithm = algorithm
        self.require_pkce = bool(require_pkce) or self.secret is None
        if not isinstance(trusted, bool):
            raise ConfigurationError(f"Client({client_id!r}): trusted is True or False.")
        self.trusted = trusted
        self.post_logout_redirect_uris = self._logout_uris(post_logout_redirect_uris)

    def _secret(self, secret: str | None) -> bytes | None:
        if secret is None:
            return None
        where = f"Client({self.client_id!r}): secret"
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError(f"{where} must be a non-empty string (or None for a public client "
                                     "that uses PKCE), e.g. os.environ['GRAFANA_OIDC_SECRET'].")
        stray = stray_whitespace(secret)
        if stray is not None:
            raise ConfigurationError(f"{where} {stray}; strip it where you read it (the service's copy "
                                     "has none, and every token request would fail).")
        if len(secret) < MIN_SECRET:
            raise ConfigurationError(
                f"{where} has {len(secret)} characters; use at least {MIN_SECRET} random ones: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'.")
        return secret.encode("utf-8")

    def _logout_uris(self, uris: Iterable[str]) -> frozenset[str]:
        if isinstance(uris, str):
            raise ConfigurationError(f"Client({self.client_id!r}): post_logout_redirect_uris is a list; "
                                     f"write post_logout_redirect_uris=[{uris!r}].")
        return frozenset(_redirect_uri(uri, self.client_id, "post_logout_redirect_uris") for uri in uris)

    def _scopes(self, scopes: Iterable[str]) -> frozenset[str]:
        found = frozenset([scopes] if isinstance(scopes, str) else scopes)
        unknown = found - set(SCOPES)
        if unknown or "openid" not in found:
            raise ConfigurationError(
                f"Client({self.client_id!r}): scopes {sorted(found)!r}: use some of {', '.join(SCOPES)}, "
                "always with 'openid'" + (f" ({', '.join(sorted(unknown))} unknown)." if unknown else ".")
            )
        return found

    def _no_reserved(self, claims: Mapping[str, Any]) -> None:
        clash = sorted(set(claims) & RESERVED)
        if clash:
            raise ConfigurationError(f"Client({self.client_id!r}): extra_claims may not set "
                                     f"{', '.join(clash)}: the provider sets those itself.")

    @property
    def public(self) -> bool:
        """Whether this client has no secret (it proves itself with PKCE alone)."""
        return self.secret is None

    def extras(self, principal: Principal) -> dict[str, Any]:
        """This client's extra claims for ``principal`` (reserved names dropped)."""
        extra = self.extra_claims
        found = extra(principal) if callable(extra) else extra
        if not found:
            return {}
        if not isinstance(found, Mapping):
            raise ConfigurationError(f"Client({self.client_id!r}): extra_claims returned a "
                                     f"{type(found).__name__}, not a mapping.")
        return {str(k): v for k, v in found.items() if k not in RESERVED}

    def __repr__(self) -> str:
        return f"Client({self.client_id!r})"


__all__ = ["ALGORITHMS", "RESERVED", "SCOPES", "Client", "ExtraClaims"]
