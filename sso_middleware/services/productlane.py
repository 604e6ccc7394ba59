"""Productlane portals.

Follows https://productlane.com/docs/guide/sso.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, Service, TenantKey
from ._common import fields, https_site, make_service


def productlane(
    *,
    key: KeyInput | TenantKey,
    portal: str,
    name: str = "productlane",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Productlane portal: ``email``, ``name``, to ``{portal}/api/portal/sso?token=<token>``.

    Follows "SSO" (https://productlane.com/docs/guide/sso); ``portal`` is
    ``https://acme.productlane.com`` or your custom domain.

    =============  =========  ===========================================
    claim          required   from
    =============  =========  ===========================================
    email          yes        ``Principal.email``
    name           no         ``Principal.name``
    imageUrl,      no         ``extra_claims`` (validity in minutes)
    tokenValidity
    =============  =========  ===========================================

    Lifetime: Productlane's example signs only ``iat``; a stand-in accepts that.

    >>> productlane(key="a-secret-of-at-least-thirty-two-bytes!",
    ...             portal="https://acme.productlane.com").destination.target
    'https://acme.productlane.com/api/portal/sso'
    """
    base = https_site(portal, name, "portal must be your Productlane portal, e.g. 'https://acme.productlane.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",), expiry_optional=True,
        destination=Destination(f"{base}/api/portal/sso", QueryParameter("token")),
    )


__all__ = ["productlane"]
