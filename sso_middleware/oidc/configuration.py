"""The provider's configuration: :class:`OpenIDProvider`, checked once when it is built."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..jwks import JWKS_PATH
from ..keys import KeyInput, KeySet
from ..pages import ConfirmPageHook, ErrorPageHook, ErrorPages
from ..replay import MemoryReplayStore, ReplayStore
from ..tokens import check_seconds
from .authorize import Authorize
from .clients import Client
from .codes import Codes
from .discovery import DISCOVERY_PATH, Discovery, metadata
from .endpoint import Context, Endpoint
from .logout import EndSession, hint_policies
from .marks import Marks
from .minting import Minter
from .token import Token
from .userinfo import UserInfo
from .webfinger import WEBFINGER_PATH, WebFinger, check_domains

ENDPOINTS: dict[str, tuple[str, type[Endpoint] | None]] = {
    "discovery": (DISCOVERY_PATH, Discovery),
    "authorize": ("/oidc/authorize", Authorize),
    "token": ("/oidc/token", Token),
    "userinfo": ("/oidc/userinfo", UserInfo),
    "jwks": (JWKS_PATH, None),  # the issuer's own JWKS route publishes the provider's keys
    "end_session": ("/oidc/logout", EndSession),  # only with end_session=
}
"""Each endpoint's path below the prefix (and below the issuer URL)."""
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def _plain_text(value: object) -> bool:
    return isinstance(value, str) and value.isprintable() and not any(c in value for c in " \\\t")


def check_issuer(issuer: object) -> str:
    """The issuer URL: https (http for loopback only), no query, fragment, user or trailing slash."""
    if not _plain_text(issuer) or not isinstance(issuer, str):
        raise ConfigurationError(f"OpenIDProvider: issuer {issuer!r} must be a URL such as "
                                 "'https://app.acme.com/sso'.")
    parts = urlsplit(issuer)
    host = parts.netloc.rpartition(":")[0] or parts.netloc
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        raise ConfigurationError(
            f"OpenIDProvider: issuer {issuer!r} must be https (relying parties refuse anything else; "
            "http only for localhost and 127.0.0.1 while you develop)."
        )
    if parts.query or parts.fragment or "?" in issuer or "#" in issuer or "@" in parts.netloc:
        raise ConfigurationError(f"OpenIDProvider: issuer {issuer!r} may have no query, fragment or user.")
    if issuer.endswith("/") or not parts.hostname:
        raise ConfigurationError(
            f"OpenIDProvider: issuer {issuer!r}: write it without a trailing slash, e.g. "
            "'https://app.acme.com/sso'. Relying parties compare it character for character with the "
            "one discovery returns and the one in every ID token."
        )
    return issuer


class OpenIDProvider:
    """OpenID Connect provider mode: the app signs its users in to every service that takes
    "custom OIDC" (Grafana, Metabase, Outline, GitLab, Mattermost, Tailscale, ...).

    Given to the issuer middleware as ``openid=``, it answers below the issuer's prefix:
    discovery at ``{prefix}/.well-known/openid-configuration``, ``{prefix}/oidc/authorize``,
    ``{prefix}/oidc/token``, ``{prefix}/oidc/userinfo``, and its public keys join the issuer's
    ``{prefix}/.well-known/jwks.json``. The user comes from the issuer's extractor and
    ``login_url``, as for every other login path.

    Security contract: only configured clients, only their exact redirect URIs (anything else
    is an error page, never a redirect); the authorization code flow only, PKCE S256 required for
    public clients (``plain`` refused); each code works once (one-time in ``replay_store``: share a
    ``RedisReplayStore`` when several processes answer) and for at most ``code_ttl`` seconds.

    :param issuer: the issuer URL, exactly as relying parties will compare it: the site's URL
        followed by the issuer middleware's prefix (``https://app.acme.com/sso``).
    :param key: the signing key: an RSA private key (PEM or JWK; RS256 is what relying parties
        assume), or a list of keys, newest first (the newest of each algorithm signs; every
        key stays published, so tokens signed before a rotation keep verifying). Add an EC or
        Ed25519 key for clients that ask for ES256 or EdDSA.
    :param clients: the relying parties (:class:`Client`).
    :param replay_store: where used codes and revoked grants live (default: this process's
        memory; a ``RedisReplayStore`` makes codes one-time across processes and hosts).
    :param code_ttl: seconds a code lives (at most 60).
    :param id_token_ttl: seconds an ID token is valid (at most 600).
    :param access_token_ttl: seconds an access token is valid for userinfo (at most 3600).
    :param verified_emails: send ``email_verified: true`` for users whose principal does not
        say (only when your app verifies every address: relying parties link accounts by it).
    :param consent_page: ``ConfirmView -> str | None``: your own consent page (for clients
        marked ``trusted=False``) and sign-out page, as ``Confirm(page=)`` styles the confirm
        page of emailed links; ``None`` gives the built-in one.
    :param end_session: ``callable(request) -> headers | None``, called with the framework's
        request (as the user extractor is; async allowed on ASGI) to end the app's session on
        RP-initiated logout; the ``Set-Cookie`` / ``Clear-Site-Data`` headers it returns go out
        with the answer. With it, ``{prefix}/oidc/logout`` is served and advertised as
        ``end_session_endpoint``; without it, neither.
    :param webfinger_domains: answer ``/.well-known/webfinger`` (at the root of the app, not
        below the prefix) for addresses in these email domains with this issuer (Tailscale
        finds its identity provider this way).

    The user's ``auth_time``: give the principal an ``auth_time`` attribute (Unix seconds of the
    user's last active sign-in) and ``prompt=login`` and ``max_age`` are honoured (the user is
    sent to ``login_url?next=...&prompt=login`` and resumes); without it the provider cannot tell
    when the user signed in, and those requests get ``error=login_required``.

    >>> from sso_middleware.keys import Key
    >>> provider = OpenIDProvider(issuer="https://app.acme.com/sso", key=Key.generate("RS256"),
    ...     clients=[Client("grafana", secret="grafana-client-secret-0123456789",
    ...                     redirect_uris=["https://grafana.acme.com/login/generic_oauth"])])
    >>> sorted(provider.routes("/sso"))  # doctest: +NORMALIZE_WHITESPACE
    ['/sso/.well-known/openid-configuration', '/sso/oidc/authorize', '/sso/oidc/token',
     '/sso/oidc/userinfo']
    """

    def __init__(
        self,
        *,
        issuer: str,
        key: KeyInput | KeySet,
        clients: Iterable[Client],
        replay_store: ReplayStore | None = None,
        code_ttl: int = 60,
        id_token_ttl: int = 300,
        access_token_ttl: int = 600,
        verified_emails: bool = False,
        consent_page: ConfirmPageHook | None = None,
        end_session: Callable[[Any], Any] | None = None,
        webfinger_domains: Iterable[str] = (),
    ) -> None:
        self.issuer = check_issuer(issuer)
        self.keys = self._keys(key)
        self.clients = self._clients(clients)
        for label, value, most in (("code_ttl", code_ttl, 60), ("id_token_ttl", id_token_ttl, 600),
                                   ("access_token_ttl", access_token_ttl, 3600)):
            check_seconds(value, f"OpenIDProvider: {label}", maximum=most)
        if replay_store is not None and not isinstance(replay_store, ReplayStore):
            raise ConfigurationError("OpenIDProvider: replay_store must be a ReplayStore, e.g. "
                                     "RedisReplayStore(redis.Redis(...)).")
        self.replay_store: ReplayStore = replay_store if replay_store is not None else MemoryReplayStore()
        for label, hook in (("consent_page", consent_page), ("end_session", end_session)):
            if hook is not None and not callable(hook):
                raise ConfigurationError(f"OpenIDProvider: {label} must be a callable, or None.")
        self.webfinger_domains = check_domains(webfinger_domains)
        self.end_session = end_session
        self.endpoints = {name: issuer + path for name, (path, _) in ENDPOINTS.items()
                          if name != "end_session" or end_session is not None}
        minter = Minter(self.keys, issuer, userinfo=self.endpoints["userinfo"],
                        id_token_ttl=int(id_token_ttl), access_token_ttl=int(access_token_ttl))
        for client in self.clients.values():
            if minter.key_for(client.algorithm) is None:
                raise ConfigurationError(
                    f"OpenIDProvider: {client!r} asks for {client.algorithm} ID tokens, and no "
                    f"{client.algorithm} key is configured: add one to key=[...] (sso-middleware keygen "
                    f"--algorithm {client.algorithm}), or drop algorithm= from the client."
                )
        self.metadata = metadata(issuer, self.endpoints, minter.algorithms)
        self._context = Context(
            issuer=issuer, endpoints=self.endpoints, clients=self.clients, minter=minter,
            codes=Codes(self.keys, issuer), store=self.replay_store, clock=_wall_clock, login_url=None,
            pages=ErrorPages(), code_ttl=int(code_ttl), verified_emails=bool(verified_emails),
            metadata=self.metadata, marks=Marks(self.keys, issuer), consent_page=consent_page,
            end_session=end_session, webfinger=self.webfinger_domains,
            hint_policies=hint_policies(self.keys, issuer, self.clients.values(), minter.algorithms,
                                        minter.id_token_ttl + 60),
        )

    @staticmethod
    def _keys(key: KeyInput | KeySet) -> KeySet:
        keys = KeySet.build(key, algorithm=None, field="OpenIDProvider: key")
        if any(not k.pair for k in keys.keys):
            raise ConfigurationError(
                "OpenIDProvider: key: a shared secret cannot sign ID tokens that every relying party "
                "verifies; pass an RSA private key (PEM or JWK): sso-middleware keygen --algorithm RS256."
            )
        if not keys.signing.private:
            raise ConfigurationError("OpenIDProvider: key: the first (newest) key must be a private key.")
        if not any(k.algorithm == "RS256" and k.private for k in keys.keys):
            raise ConfigurationError(
                "OpenIDProvider: key: include an RS256 (RSA) private key. OpenID Connect Discovery requires "
                "RS256 and relying parties assume it; add EC or Ed25519 keys beside it for clients that ask "
                "for them. Make one with: sso-middleware keygen --algorithm RS256."
            )
        return keys

    @staticmethod
    def _clients(clients: Iterable[Client]) -> dict[str, Client]:
        found: dict[str, Client] = {}
        for client in [clients] if isinstance(clients, Client) else clients:
            if not isinstance(client, Client):
                raise ConfigurationError(f"OpenIDProvider: clients: {client!r} is not a Client; write "
                                         "Client('grafana', secret=..., redirect_uris=[...]).")
            if client.client_id in found:
                raise ConfigurationError(f"OpenIDProvider: two clients have client_id {client.client_id!r}.")
            found[client.client_id] = client
        if not found:
            raise ConfigurationError("OpenIDProvider: clients: configure at least one Client.")
        return found

    def routes(self, prefix: str, *, login_url: str | None = None, error_page: ErrorPageHook | None = None,
               clock: Callable[[], float] | None = None) -> Mapping[str, Endpoint]:
        """Each path the provider answers below ``prefix`` (the issuer middleware's), and its
        endpoint; ``login_url``, ``error_page`` and ``clock`` are the issuer's. The issuer URL's
        path must end with ``prefix`` (the site may be mounted below a root path)."""
        path = urlsplit(self.issuer).path
        if not path.endswith(prefix):
            raise ConfigurationError(
                f"OpenIDProvider: issuer {self.issuer!r} does not end with the prefix {prefix!r}. Clients "
                f"fetch {{issuer}}/.well-known/openid-configuration, which is answered at "
                f"{prefix}/.well-known/openid-configuration: make them agree, e.g. issuer='https://<your "
                f"site>{prefix}'."
            )
        context = replace(self._context, login_url=login_url, pages=ErrorPages(error_page),
                          clock=clock or _wall_clock)
        routes = {prefix + ENDPOINTS[name][0]: kind(context) for name, (_, kind) in ENDPOINTS.items()
                  if kind is not None and name in self.endpoints}
        if self.webfinger_domains:  # at the root of the host, where the email domain's site answers it
            routes[WEBFINGER_PATH] = WebFinger(context)
        return routes

    def __repr__(self) -> str:
        return f"OpenIDProvider(issuer={self.issuer!r}, clients={list(self.clients.values())!r})"


def _wall_clock() -> float:
    import time

    return time.time()


__all__ = ["ENDPOINTS", "OpenIDProvider", "check_issuer"]
