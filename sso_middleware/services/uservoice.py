"""UserVoice.

Follows https://developer.uservoice.com/docs/single-sign-on/single-sign-on/.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, Service, TenantKey
from ._common import dns_label, fields, https_page, make_service


def uservoice(
    *,
    key: KeyInput | TenantKey,
    subdomain: str | None = None,
    portal: str | None = None,
    name: str = "uservoice",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """UserVoice: ``guid`` and ``email``, to ``https://{subdomain}.uservoice.com?sso=<token>``.

    Follows "Single Sign-On with JSON Web Tokens"
    (https://developer.uservoice.com/docs/single-sign-on/single-sign-on/): HS256 only;
    ``portal`` replaces the default address for a custom domain.

    =============  =========  =========================================
    claim          required   from
    =============  =========  =========================================
    guid           yes        ``Principal.id`` as a string (never the email)
    email          yes        ``Principal.email``
    display_name   no         ``Principal.name``
    locale, admin, no         ``extra_claims``
    trusted,
    avatar_url, …
    =============  =========  =========================================

    Lifetime: UserVoice's ``exp`` is optional and "defaults to never expiring"; a stand-in
    for UserVoice accepts such tokens.

    >>> uservoice(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").destination.target
    'https://acme.uservoice.com/'
    """
    if portal is None:
        portal = "https://{}.uservoice.com".format(dns_label(
            subdomain, name, "subdomain must be your UserVoice subdomain (or pass portal=)"))
    target = https_page(portal, name, "portal must be your UserVoice portal's https URL")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("guid", "id"), ("email", "email")], [("display_name", "name")], text=["guid"]),
        required=("guid", "email"), identity=("guid",), expiry_optional=True,
        destination=Destination(target, QueryParameter("sso")),
    )


__all__ = ["uservoice"]
