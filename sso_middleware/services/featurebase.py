"""Featurebase feedback boards.

Follows https://help.featurebase.app/help/articles/5257986-creating-and-signing-a-jwt and
https://help.featurebase.app/articles/0874531-single-sign-on-sso-authentication-and-data-sync-setup.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import dns_label, fields, make_service, vendor_hosts, widget_fetch


def featurebase(
    *,
    key: KeyInput | TenantKey,
    organization: str,
    hosts: Iterable[str] | TenantHosts = (),
    widget: bool = False,
    name: str = "featurebase",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Featurebase: ``…/api/v1/auth/access/jwt?jwt=&return_to=``.

    Follows Featurebase's "Creating and signing a JWT"
    (https://help.featurebase.app/help/articles/5257986-creating-and-signing-a-jwt): HS256, "at
    minimum, either email or userId must be present"; and "Single Sign-On (SSO)
    authentication" (https://help.featurebase.app/articles/0874531-single-sign-on-sso-authentication-and-data-sync-setup):
    ``return_to`` must be on ``{organization}.featurebase.app`` or ``hosts`` (your board's custom
    domain). ``companies`` entries carry ``id`` on the first page and ``companyId`` on the newer
    "Identifying users & syncing data": pass what your account accepts in ``extra_claims``.

    ``widget=True`` also answers the signed-in user's own pages at ``/sso/featurebase/token``
    (``{"token": …, "expires_at": …}``, same-origin only): the widgets take it as ``jwtToken``
    ("input this JWT value to any Featurebase widget as jwtToken", the SSO page above), the
    Messenger and SDK as ``featurebaseJwt`` ("Secure your installation",
    https://help.featurebase.app/help/articles/5402549-secure-your-installation-required-by-default:
    secure installation is on by default, so plain ``email``/``userId`` from the browser are
    refused). Render the call with :func:`sso_middleware.snippets.featurebase_widget`. The
    redirect login keeps working beside it.

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
        page_fetch=widget_fetch(widget, name),
    )


__all__ = ["featurebase"]
