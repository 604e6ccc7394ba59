"""What several presets share: claims copied from the principal, checked vendor addresses, the
vendor's hosts plus yours, and the one call that assembles a :class:`Service`. Private."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..keys import KeyInput
from ..placements import TokenEndpoint, UserHash
from ..principal import Principal
from ..redirects import AllowedHosts, host_key
from ..service import (
    ClaimBuilder,
    Destination,
    ExtraClaims,
    PageFetch,
    ReturnRules,
    Service,
    TenantHosts,
    TenantKey,
    TokenRules,
    need,
    optional,
)

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def fields(
    required: Iterable[tuple[str, str]] = (),
    optional_: Iterable[tuple[str, str]] = (),
    *,
    text: Iterable[str] = (),
) -> ClaimBuilder:
    """Claims copied from the principal, as ``(claim, field)`` pairs; ``text`` claims become strings."""
    needed, wanted, as_text = tuple(required), tuple(optional_), frozenset(text)

    def claims(user: Principal) -> dict[str, Any]:
        found = {claim: need(user, name) for claim, name in needed}
        for claim, name in wanted:
            value = optional(user, name)
            if value is not None:
                found[claim] = value
        if not as_text:  # most presets: the values as they are, no second dict
            return found
        return {k: str(v) if k in as_text else v for k, v in found.items()}

    return claims


def with_names(claims: ClaimBuilder) -> ClaimBuilder:
    """``claims`` plus ``first_name``/``last_name`` from ``Principal.name`` (split at its first space)."""

    def named(user: Principal) -> dict[str, Any]:
        found = dict(claims(user))
        first, _, last = (user.name or "").strip().partition(" ")
        parts = (("first_name", first), ("last_name", last.strip()))
        found.update((claim, part) for claim, part in parts if part)
        return found

    return named


def page_fetches() -> Destination:
    """The page's own script fetches the token (or hash) at ``{prefix}/{name}/token``."""
    return Destination(placement=TokenEndpoint(), path="/")


def user_hash(
    *,
    name: str,
    key: KeyInput,
    hashed: tuple[str, str],
    hash_as: str,
    also: Iterable[tuple[str, str]] = (),
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """An identity-verification widget: its fields from the principal (``hashed`` is
    ``(answer key, principal field)``, required) and their HMAC-SHA256 under ``hash_as``."""
    field = hashed[0]
    return make_service(
        name=name, key=key, ttl=300, extra_claims=extra_claims,
        claims=fields([hashed], also, text=[field]), required=(field,), identity=(field,),
        destination=Destination(placement=UserHash(hash_as, of=field), path="/"),
    )


def dns_label(value: object, name: str, what: str, otherwise: str = "") -> str:
    """``value`` if it is one DNS label (a vendor subdomain such as ``acme``).

    ``otherwise`` names the option that replaces it, said after the example.
    """
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise ConfigurationError(f"service {name!r}: {what}, e.g. 'acme'{otherwise}.")
    return value


def https_site(value: object, name: str, what: str) -> str:
    """``value`` without its trailing slash, if it is an https URL with no query (a site or page)."""
    if not isinstance(value, str) or host_key(value) is None or "?" in value or "#" in value:
        raise ConfigurationError(f"service {name!r}: {what}.")
    return value.rstrip("/")


def https_page(value: object, name: str, what: str) -> str:
    """A page's https URL as given; a bare site gets its root path (``https://acme.com/``)."""
    site = https_site(value, name, what)
    return site + "/" if not urlsplit(site).path else str(value)


def vendor_hosts(
    name: str, own: Iterable[str], hosts: Iterable[str] | TenantHosts
) -> AllowedHosts | TenantHosts:
    """The vendor's own hosts plus yours (custom domains); per tenant, the vendor's plus the tenant's."""
    vendor = tuple(own)
    if callable(hosts):
        tenant = hosts
        return lambda user: [*vendor, *tenant(user)]
    field = f"service {name!r}: hosts"
    listed = hosts if isinstance(hosts, str) else list(hosts)
    AllowedHosts(listed, field=field)  # refuses a bare string and names your pattern, not ours
    return AllowedHosts([*vendor, *listed], field=field)


def widget_fetch(widget: object, name: str) -> PageFetch | None:
    """``widget=True``: the token is also answered at ``{prefix}/{name}/token``, beside the redirect."""
    if not isinstance(widget, bool):
        raise ConfigurationError(f"service {name!r}: widget is True or False.")
    return PageFetch() if widget else None


def only_algorithm(service: Service, vendor: str) -> Service:
    """``service``, if its key signs the one algorithm its vendor verifies (a ``Key`` object
    brings its own algorithm; PEM text and JWKs are checked when read)."""
    wanted, keys = service.token.algorithm, service.keys
    if keys is not None and wanted not in keys.signing.accepts:
        raise ConfigurationError(
            f"service {service.name!r}: key: {vendor} verifies {wanted} only; this key signs "
            f"{keys.signing.algorithm} (give a key of the type {wanted} needs, as PEM text or "
            f"e.g. Key.generate({wanted!r}))."
        )
    return service


def make_service(
    *,
    name: str,
    key: KeyInput | TenantKey,
    claims: ClaimBuilder | None,
    identity: tuple[str, ...],
    ttl: int,
    extra_claims: ExtraClaims | None,
    destination: Destination,
    returns: ReturnRules | None = None,
    required: tuple[str, ...] = (),
    algorithm: str = "HS256",
    max_age: float | None = None,
    expiry_optional: bool = False,
    min_key_length: int | None = None,
    hint: str | None = None,
    iat_in_ms: bool = False,
    page_fetch: PageFetch | None = None,
) -> Service:
    """The :class:`Service` a preset describes, its token rules built in one call."""
    rules = TokenRules(
        claims=claims, required=required, identity=identity, algorithm=algorithm, ttl=ttl,
        max_age=max_age, extra=extra_claims, expiry_optional=expiry_optional,
        min_key_length=min_key_length, iat_in_ms=iat_in_ms,
    )
    return Service(name=name, key=key, token=rules, destination=destination, returns=returns, hint=hint,
                   page_fetch=page_fetch)
