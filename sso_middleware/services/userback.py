"""Userback feedback portals.

Follows https://support.userback.io/en/articles/6160423-single-sign-on-sso.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, Service, TenantKey
from ._common import fields, https_page, make_service


def userback(
    *,
    key: KeyInput | TenantKey,
    portal: str,
    name: str = "userback",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Userback feedback portal: ``email``, ``name``, to ``{portal}?sso_jwt=<token>``.

    Follows "Single Sign-On (SSO)" (https://support.userback.io/en/articles/6160423-single-sign-on-sso);
    ``portal`` is your portal's URL, e.g. ``https://acme.ideas.userback.io/p/nMeOGChr32``.

    ==========  =========  ==================
    claim       required   from
    ==========  =========  ==================
    email       yes        ``Principal.email``
    name        no         ``Principal.name``
    avatar_url  no         ``extra_claims``
    ==========  =========  ==================

    Lifetime: Userback's Node example signs only ``iat``; a stand-in accepts that.

    >>> userback(key="a-secret-of-at-least-thirty-two-bytes!",
    ...          portal="https://acme.ideas.userback.io/p/x1").destination.placement
    QueryParameter('sso_jwt')
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",), expiry_optional=True,
        destination=Destination(https_page(portal, name, "portal must be your Userback portal's https URL"),
                                QueryParameter("sso_jwt")),
    )


__all__ = ["userback"]
