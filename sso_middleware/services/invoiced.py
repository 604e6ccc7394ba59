"""Invoiced customer portal (Magic Links).

Follows https://docs.invoiced.com/dev/single-sign-on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError, MissingClaim
from ..keys import KeyInput
from ..placements import TOKEN, PathSegment
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantKey, need
from ._common import dns_label, https_site, make_service

PAGES = frozenset({
    "my_account", "credit_notes", "invoices", "estimates", "payments", "balance_forward_statement",
    "open_item_statement", "pay", "add_payment_method", "update_billing_info",
})
"""The pages a magic link may open with ``?redirect_to=`` (Invoiced's list)."""


def invoiced(
    *,
    key: KeyInput | TenantKey,
    company: str | None = None,
    customer_id: str | Callable[[Principal], Any] | None = None,
    issuer: str = "sso_middleware",
    base_url: str | None = None,
    page: str | None = None,
    name: str = "invoiced",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Invoiced customer portal: ``sub`` (the Invoiced customer id), ``iss``, ``exp``.

    Follows Invoiced's "Magic Links" (https://docs.invoiced.com/dev/single-sign-on; the key is
    the *Magic Link key*, Settings → Developers → Magic Links): HS256, ``sub`` the customer's
    id on Invoiced (an integer in Invoiced's SDKs, a string in the page's example token: the
    type you give is kept), ``iss`` any string, ``exp`` required. The browser goes to
    ``https://{company}.invoiced.com/login/{token}`` (or ``{base_url}/login/{token}``).

    A magic link may open one page with ``?redirect_to=``: ``page=`` names it for every login,
    or, without it, the login request may carry ``redirect_to`` (``/sso/invoiced?redirect_to=pay``),
    forwarded only if it is one of Invoiced's ten page ids (:data:`PAGES`); anything else is
    a 400 before anyone is asked who the user is.

    =====  =========  ====================================================
    claim  required   from
    =====  =========  ====================================================
    sub    yes        ``customer_id``: an attribute name or a callable
    iss    yes        ``issuer``
    exp    yes        stamped (with ``iat`` and ``jti``), ``ttl`` seconds
    =====  =========  ====================================================

    ``customer_id`` is the name of a ``Principal`` attribute or a callable taking the
    ``Principal``. It is required to sign users in: your user id is not Invoiced's customer
    id. Without it the service can stand in for Invoiced (receive) but an issuer refuses it.

    >>> svc = invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme",
    ...                customer_id="invoiced_id")
    >>> svc.destination.target
    'https://acme.invoiced.com/login/{token}'
    >>> invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme", customer_id="invoiced_id",
    ...          page="pay").destination.target
    'https://acme.invoiced.com/login/{token}?redirect_to=pay'
    """
    if base_url is None:
        base_url = "https://{}.invoiced.com".format(dns_label(
            company, name, "company must be your Invoiced subdomain (the 'acme' in acme.invoiced.com)",
            "; or pass base_url='https://billing.acme.com' for a custom domain"))
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(f"service {name!r}: issuer must be a non-empty string.")
    if page is not None and page not in PAGES:
        raise ConfigurationError(f"service {name!r}: page must be one of {', '.join(sorted(PAGES))}.")
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
            f"{https_site(base_url, name, 'base_url must be an https URL')}/login/{TOKEN}"
            + ("" if page is None else f"?redirect_to={page}"), PathSegment()
        ),
        returns=None if page is not None else ReturnRules(
            "redirect_to", forward_as="redirect_to", choices=PAGES),
        hint=None if customer_id is not None else (
            "services.invoiced needs customer_id=... to sign users in: the Invoiced customer id, "
            "e.g. customer_id='invoiced_id' (a Principal attribute) or "
            "customer_id=lambda user: user.attributes['invoiced_id']."
        ),
    )


__all__ = ["invoiced"]
