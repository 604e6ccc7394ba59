"""What ``sso-middleware check MODULE:APP`` finds in a configuration, each finding with its fix.

It walks an app's middleware wherever its framework keeps it (ours, Starlette's and Litestar's
stacks, Flask's ``wsgi_app``, Quart's ``asgi_app``, anything that keeps an ``app`` attribute) and
looks at what the constructors could not refuse on their own: a key shared by two services or by
both directions, short keys, a wildcard on a vendor's shared domain where the token rides on the
return URL, an in-memory replay store under several workers,
clashing cookie names, a token lifetime past the vendor's own age limit; and an OpenID Connect
provider's issuer (https), redirect URIs (exact, https), key strength (RSA of 2048 bits or more)
and replay store (Redis when several workers redeem codes).

>>> from sso_middleware import services
>>> frill = services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["*.frill.co"])
>>> [f.what for f in lint([frill]).findings]  # doctest: +ELLIPSIS
["service 'frill': the wildcard '*.frill.co' ..."]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeGuard
from urllib.parse import urlsplit

from ..flows import IssuerMiddleware, VerifierMiddleware
from ..keys import MIN_RSA_BITS, KeySet
from ..redirects import split_netloc
from ..replay import MemoryReplayStore, several_workers
from ..service import Service, TokenRules
from ..services import from_config

if TYPE_CHECKING:
    from ..oidc import OpenIDProvider

# Vendors' shared domains: one customer's board per subdomain, so a wildcard reaches them all.
SHARED_DOMAINS = frozenset({
    "frill.co", "canny.io", "featurebase.app", "zendesk.com", "upvoty.com", "uservoice.com",
    "productlane.com", "helpscoutdocs.com", "userback.io", "gitbook.io", "invoiced.com",
})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong (``problem``) or worth a look (``warning``), and how to fix it."""

    level: Literal["problem", "warning"]
    what: str
    fix: str


@dataclass
class Lint:
    """What was found: the login paths and receivers (``seen``) and the findings."""

    seen: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Literal["problem", "warning"], what: str, fix: str) -> None:
        self.findings.append(Finding(level, what, fix))


# where frameworks and wrappers keep the app they run: middleware's ``app``, Flask's ``wsgi_app``,
# Quart's ``asgi_app``, WhiteNoise's and most WSGI wrappers' ``application``
_INNER = ("app", "wsgi_app", "asgi_app", "application")


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    """The app a middleware that a framework lists (but has not built) is built around, to be read."""


def _listed(app: object) -> Iterator[object]:
    """Our middleware a framework lists without building it (Litestar's ``DefineMiddleware``, which
    ``issuer_plugin`` adds too), built around nothing so that its configuration can be read."""
    listed = getattr(app, "middleware", None)
    for item in listed if isinstance(listed, list) else ():
        kind = getattr(item, "middleware", None)
        if isinstance(kind, type) and issubclass(kind, (IssuerMiddleware, VerifierMiddleware)):
            yield kind(_nothing, *getattr(item, "args", ()), **getattr(item, "kwargs", {}))


def _inside(app: object) -> Iterator[object]:
    """The apps ``app`` runs: the attributes frameworks keep them in, a Starlette app's middleware
    stack (built the way Starlette builds it on its first request), Litestar's listed middleware,
    aiohttp's ``middlewares`` and a protocol router's mapping (Channels' ``ProtocolTypeRouter``)."""
    build = getattr(app, "build_middleware_stack", None)
    if callable(build) and hasattr(app, "user_middleware"):
        yield build()
    yield from _listed(app)
    built = getattr(app, "middlewares", None)  # aiohttp's web.Application: built middleware, listed
    if isinstance(built, Sequence) and not isinstance(built, (str, bytes)):
        yield from built
    for name in _INNER:
        yield getattr(app, name, None)
    mapping = getattr(app, "application_mapping", None)
    if isinstance(mapping, Mapping):
        yield from mapping.values()


def layers(app: object, depth: int = 64) -> Iterator[object]:
    """``app`` and every app it wraps, wherever its framework keeps them: ``.app`` (middleware),
    ``.wsgi_app`` (Flask), ``.asgi_app`` (Quart), ``.application`` (WhiteNoise, Django wrappers), a
    Starlette or FastAPI app's middleware stack, Litestar's ``middleware=[...]`` and plugins,
    aiohttp's ``web.Application(middlewares=[...])``.

    >>> from sso_middleware import services
    >>> from sso_middleware.wsgi import IssuerMiddleware
    >>> from flask import Flask
    >>> flask_app = Flask(__name__)
    >>> flask_app.wsgi_app = IssuerMiddleware(flask_app.wsgi_app, user=lambda request: None, services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    >>> any(isinstance(layer, IssuerMiddleware) for layer in layers(flask_app))
    True
    """
    seen: set[int] = set()
    todo = [app]
    while todo and len(seen) < depth:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(_inside(current))


def _services(target: object) -> tuple[list[tuple[str, Service]], list[VerifierMiddleware[Any]]]:
    """The issuing services (with their login paths) and the verifiers in ``target``."""
    if isinstance(target, Service):
        return [(f"/sso/{target.name}", target)], []
    if isinstance(target, Mapping) and not callable(target):  # (aiohttp's web.Application is a mapping)
        return [(f"/sso/{s.name}", s) for s in from_config(target)], []
    if isinstance(target, (list, tuple)) and all(isinstance(s, Service) for s in target):
        return [(f"/sso/{s.name}", s) for s in target], []
    issued: list[tuple[str, Service]] = []
    verifiers: list[VerifierMiddleware[Any]] = []
    for layer in layers(target):
        if isinstance(layer, IssuerMiddleware):
            issued.extend(layer.login_paths.items())
        elif isinstance(layer, VerifierMiddleware):
            verifiers.append(layer)
    return issued, verifiers


def _is_provider(value: object) -> TypeGuard[OpenIDProvider]:
    module = sys.modules.get("sso_middleware.oidc.configuration")  # loaded if any provider was built
    return module is not None and isinstance(value, module.OpenIDProvider)


def _providers(target: object) -> list[OpenIDProvider]:
    """The OpenID Connect providers in ``target`` (one given directly, or an issuer's ``openid=``)."""
    if _is_provider(target):
        return [target]
    found: list[OpenIDProvider] = []
    for layer in layers(target):
        provider = getattr(layer, "openid", None) if isinstance(layer, IssuerMiddleware) else None
        if _is_provider(provider) and all(provider is not p for p in found):
            found.append(provider)
    return found


def _keys(label: str, keys: KeySet | None) -> Iterable[tuple[str, bytes]]:
    """Each key's identity: a secret's bytes, a key pair's public key."""
    return [] if keys is None else [(label, key.secret or key.public_pem()) for key in keys.keys]


def lint(target: object, *, workers: int | None = None) -> Lint:
    """Look at ``target`` (an app, a ``Service``, a list of them, or a ``from_config`` mapping)."""
    found = Lint()
    issued, verifiers = _services(target)
    providers = _providers(target)
    if not issued and not verifiers and not providers:
        found.add("problem", "no IssuerMiddleware or VerifierMiddleware was found in it",
                  "point check at the object your server runs (MODULE:APP), after the middleware is added")
        return found
    keys: list[tuple[str, bytes]] = []
    for path, service in issued:
        found.seen.append(f"issues  {path} -> {service!r}")
        _look_at_service(found, service)
        keys.extend(_keys(f"service {service.name!r} (issuing)", service.keys))
    reason = f"--workers {workers}" if workers and workers > 1 else several_workers()
    for provider in providers:
        _look_at_provider(found, provider, reason)
    keys.extend(_look_at_verifiers(found, verifiers, reason))
    _look_at_shared_keys(found, keys)
    return found


def _look_at_verifiers(found: Lint, verifiers: list[VerifierMiddleware[Any]],
                       reason: str | None) -> list[tuple[str, bytes]]:
    """Each verifier's replay store and cookie (no two alike); their keys, labelled."""
    keys: list[tuple[str, bytes]] = []
    cookies: dict[str, str] = {}
    for verifier in verifiers:
        receiver = verifier.receiver
        cookie = receiver.sessions.cookie_name
        label = f"verifier {receiver.service!r} ({receiver.listen or 'any page'})"
        found.seen.append(f"receives {receiver.listen or '(any page)'} as {receiver.service!r}, "
                          f"cookie {cookie!r}")
        keys.extend(_keys(label + " (receiving)", receiver.policy.keys))
        if reason and isinstance(receiver.replay_store, MemoryReplayStore):
            found.add("problem", f"{label} keeps one-time ids in memory and the server runs several "
                      f"workers ({reason}): a token would log in once per worker",
                      "pass replay_store=RedisReplayStore(redis.Redis(...)) shared by every worker")
        other = cookies.setdefault(cookie, label)
        if other != label:
            found.add("problem", f"{label} and {other} share the cookie {cookie!r}: "
                      "each clears the other's session", "give each VerifierMiddleware its own cookie_name=")
    return keys


def _look_at_shared_keys(found: Lint, keys: list[tuple[str, bytes]]) -> None:
    """One key per service and direction: a shared one lets a token meant for one pass at another."""
    by_secret: dict[bytes, str] = {}
    for label, secret in keys:
        first = by_secret.setdefault(secret, label)
        if first != label:
            found.add("problem", f"{first} and {label} use the same key: a token minted for one is "
                      "accepted by the other", "give each service and each direction its own key")


def _look_at_service(found: Lint, service: Service) -> None:
    where = f"service {service.name!r}"
    _look_at_key_lengths(found, where, service)
    if service.fetched and not service.destination.placement.stamps:  # a widget's user hash
        found.add("warning", f"{where}: its user hash never expires and is the same on every page",
                  "it proves who the user is, not a fresh session: rotate the key to revoke every hash")
    _look_at_lifetime(found, where, service.token)
    _look_at_hosts(found, where, service)


def _look_at_key_lengths(found: Lint, where: str, service: Service) -> None:
    """Each secret at least as long as the service's keys (or the hash's output)."""
    rules = service.token
    for key in service.keys.keys if service.keys is not None else ():
        floor = rules.min_key_length or key.digest_size
        if key.secret is not None and len(key.secret) < floor:
            found.add("warning", f"{where}: its {key.algorithm} key is {len(key.secret)} bytes, under "
                      f"{floor}", "ask the service for a longer key (or generate one: sso-middleware keygen)"
                      " and rotate: key=[new, old] until the old tokens expire")


def _look_at_lifetime(found: Lint, where: str, rules: TokenRules) -> None:
    """A ``ttl`` the service accepts, with room for its clock."""
    if rules.max_age is not None and rules.ttl > rules.max_age:
        found.add("problem", f"{where}: ttl={rules.ttl} s, but the service refuses tokens issued more than "
                  f"{rules.max_age:g} s ago", f"use ttl={int(rules.max_age)} or less")
    # the vendor's own lifetime cap (UserJot's 1 h, Tableau's 10 min), met exactly
    if rules.max_lifetime is not None and rules.ttl > rules.max_lifetime - 60:
        found.add("warning", f"{where}: ttl={rules.ttl} s is at the service's limit (tokens valid at most "
                  f"{rules.max_lifetime} s): with its clock a little behind ours it refuses them",
                  f"use ttl={rules.max_lifetime - 60} or less; short-lived tokens are the point")


def _look_at_hosts(found: Lint, where: str, service: Service) -> None:
    """Return hosts: no shared-domain wildcard where the token rides on the URL, no port."""
    hosts = service.returns.hosts
    carries_token = service.destination.target is None  # the token rides on the return URL itself
    for suffix in getattr(hosts, "suffixes", ()):
        if carries_token and suffix.lstrip(".") in SHARED_DOMAINS:
            found.add("problem", f"{where}: the wildcard '*{suffix}' sends tokens to any customer's board "
                      f"on {suffix.lstrip('.')}", f"list your own board instead, e.g. 'acme{suffix}'")
    for host in getattr(hosts, "exact", ()):
        split = split_netloc(host)
        if split is not None and split[1] is not None and split[0] not in _LOOPBACK:
            found.add("warning", f"{where}: the host {host!r} names a port",
                      "list the host as the browser sees it (https on 443 needs no port)")


def _look_at_provider(found: Lint, provider: OpenIDProvider, reason: str | None) -> None:
    """An OpenID Connect provider: its issuer, each client's redirect URIs, its keys, its store."""
    where = f"OpenID provider {provider.issuer!r}"
    found.seen.append(f"provides OpenID Connect at {provider.issuer} for "
                      f"{', '.join(sorted(provider.clients))}")
    if urlsplit(provider.issuer).scheme != "https":
        found.add("warning", f"{where}: the issuer is plain http, which relying parties refuse outside "
                  "development (and codes and tokens would cross the network in the clear)",
                  "serve the app over https and write issuer='https://<your site><prefix>'")
    _look_at_clients(found, where, provider)
    _look_at_webfinger(found, where, provider)
    for key in provider.keys.keys:
        bits = _rsa_bits(key.public_pem()) if key.pair else None
        if bits is not None and bits < MIN_RSA_BITS:
            found.add("problem", f"{where}: its RSA key {key.kid!r} has {bits} bits, under {MIN_RSA_BITS}",
                      "make a new one (sso-middleware keygen --algorithm RS256) and rotate: key=[new, old]")
    if reason and isinstance(provider.replay_store, MemoryReplayStore):
        found.add("problem", f"{where} keeps used codes in memory and the server runs several workers "
                  f"({reason}): a code could be redeemed once per worker",
                  "pass replay_store=RedisReplayStore(redis.Redis(...)) to OpenIDProvider, shared by every "
                  "worker")


def _look_at_clients(found: Lint, where: str, provider: OpenIDProvider) -> None:
    """Each client's redirect URIs and post-logout redirect URIs; logout URIs with no logout."""
    for client in provider.clients.values():
        label = f"{where}: client {client.client_id!r}"
        for uri in sorted(client.redirect_uris):
            _look_at_redirect_uri(found, label, uri)
        for uri in sorted(client.post_logout_redirect_uris):
            _look_at_redirect_uri(found, label, uri, "post-logout redirect URI")
        if client.post_logout_redirect_uris and "end_session" not in provider.endpoints:
            found.add("warning", f"{label} lists post_logout_redirect_uris, and the provider serves no "
                      "logout endpoint (no end_session= hook): the service's sign-out never reaches the app",
                      "pass OpenIDProvider(end_session=...) that ends the app's session (see the README)")


def _look_at_webfinger(found: Lint, where: str, provider: OpenIDProvider) -> None:
    """WebFinger is asked at the email domain's own site, which may not be this app's host."""
    host = (urlsplit(provider.issuer).hostname or "").lower()
    for domain in sorted(provider.webfinger_domains):
        if domain != host:
            found.add("warning", f"{where}: Tailscale asks https://{domain}/.well-known/webfinger, and "
                      f"this app answers it on {host}", f"serve (or proxy) that one path on {domain} from "
                      "this app")


def _look_at_redirect_uri(found: Lint, where: str, uri: str, kind: str = "redirect URI") -> None:
    """A registered redirect URI: https, exact (no wildcard), no fragment."""
    parts = urlsplit(uri)
    if "*" in uri:
        found.add("problem", f"{where}: the {kind} {uri!r} has a '*', but redirect URIs are matched "
                  "exactly, character for character: it matches no callback (and no pattern is ever allowed)",
                  "list each callback URL exactly as the service's admin form shows it")
    if parts.fragment or "#" in uri:
        found.add("problem", f"{where}: the {kind} {uri!r} has a fragment (RFC 6749 3.1.2)",
                  "drop the '#...' part")
    if parts.scheme != "https":
        found.add("warning", f"{where}: the {kind} {uri!r} is plain http (a service on this machine "
                  "only): codes would cross the network in the clear", "use the service's https URL in "
                  "production")


def _rsa_bits(public_pem: bytes) -> int | None:
    """An RSA public key's size in bits (``None`` for other key types)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_public_key(public_pem)
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


__all__ = ["SHARED_DOMAINS", "Finding", "Lint", "layers", "lint"]
