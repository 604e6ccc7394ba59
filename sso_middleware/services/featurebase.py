"""Featurebase feedback boards.

Follows Featurebase's "Single Sign-On (SSO)" guide (https://help.featurebase.app).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import dns_label, fields, make_service, vendor_hosts


def featurebase(
    *,
    key: KeyInput | TenantKey,
    organization: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "featurebase",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Featurebase: ``…/api/v1/auth/access/jwt?jwt=&return_to=``.

    Follows Featurebase's "Single Sign-On (SSO)" guide (https://help.featurebase.app, "SSO"):
    one of ``email`` or ``userId`` identifies the user; ``return_to`` must be on
    ``{organization}.featurebase.app`` or ``hosts`` (your board's custom domain).

    ===============  =========  ===================================
    claim            required   from
    ===============  =========  ===================================
    userId           one of     ``Principal.id`` as a string
    email            the two    ``Principal.email``
    name             no         ``Principal.name``
    profilePicture,  no         ``extra_claims``
    companies, tags,
    locale, roles
    ===============  =========  ===================================

    >>> featurebase(key="a-secret-of-at-least-thirty-two-bytes!", organization="acme").destination.placement
    QueryParameter('jwt')
    """
    host = "{}.featurebase.app".format(dns_label(
        organization, name, "organization must be your Featurebase subdomain"))
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("userId", "id")], [("email", "email"), ("name", "name")], text=["userId"]),
        identity=("userId", "email"), expiry_optional=True,
        destination=Destination(f"https://{host}/api/v1/auth/access/jwt", QueryParameter("jwt")),
        returns=ReturnRules("return_to", hosts=vendor_hosts(name, [host], hosts), forward_as="return_to"),
    )


__all__ = ["featurebase"]
