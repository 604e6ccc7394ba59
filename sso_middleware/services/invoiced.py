"""Invoiced customer portal.

Follows Invoiced's "Single Sign-On" (https://developer.invoiced.com).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError, MissingClaim
from ..keys import KeyInput
from ..placements import TOKEN, PathSegment
from ..principal import Principal
from ..service import Destination, ExtraClaims, Service, TenantKey, need
from ._common import dns_label, https_site, make_service


def invoiced(
    *,
    key: KeyInput | TenantKey,
    company: str | None = None,
    customer_id: str | Callable[[Principal], Any] | None = None,
    issuer: str = "sso_middleware",
    base_url: str | None = None,
    name: str = "invoiced",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Invoiced customer portal: ``sub`` (the Invoiced customer id), ``iss``, ``exp``.

    Follows Invoiced's "Single Sign-On" for the customer portal
    (https://developer.invoiced.com, "Single Sign-On"): ``sub`` is "the ID of the customer on
    Invoiced you are signing the user in as" (an integer in Invoiced's SDKs: its type is
    kept), ``iss`` any string, ``exp`` required. The browser goes to
    ``https://{company}.invoiced.com/login/{token}`` (or ``{base_url}/login/{token}``).

    ``customer_id`` is the name of a ``Principal`` attribute or a callable taking the
    ``Principal``. It is required to sign users in: your user id is not Invoiced's customer
    id. Without it the service can stand in for Invoiced (receive) but an issuer refuses it.

    >>> svc = invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme",
    ...                customer_id="invoiced_id")
    >>> svc.destination.target
    'https://acme.invoiced.com/login/{token}'
    """
    if base_url is None:
        base_url = "https://{}.invoiced.com".format(dns_label(
            company, name, "company must be your Invoiced subdomain (the 'acme' in acme.invoiced.com), "
            "or pass base_url='https://billing.acme.com'"))
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(f"service {name!r}: issuer must be a non-empty string.")
    if customer_id is not None and not callable(customer_id) and not isinstance(customer_id, str):
        raise ConfigurationError(
            f"service {name!r}: customer_id must be a Principal attribute name or a callable(Principal)."
        )

    def claims(user: Principal) -> dict[str, Any]:
        if callable(customer_id):
            value = customer_id(user)
            if value is None or value == "":
                raise MissingClaim("sub")
        else:
            value = need(user, customer_id or "")
        return {"sub": value, "iss": issuer}

    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=None if customer_id is None else claims, required=("sub", "iss"), identity=("sub",),
        destination=Destination(
            f"{https_site(base_url, name, 'base_url must be an https URL')}/login/{TOKEN}", PathSegment()
        ),
        hint=None if customer_id is not None else (
            "services.invoiced needs customer_id=... to sign users in: the Invoiced customer id, "
            "e.g. customer_id='invoiced_id' (a Principal attribute) or "
            "customer_id=lambda user: user.attributes['invoiced_id']."
        ),
    )


__all__ = ["invoiced"]
