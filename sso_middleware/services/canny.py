"""Canny feedback boards.

Follows https://developers.canny.io/install/sso-redirect and, for widgets,
https://developers.canny.io/install/widget/sso.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import fields, make_service, vendor_hosts, widget_fetch


def canny(
    *,
    key: KeyInput | TenantKey,
    hosts: Iterable[str] | TenantHosts = (),
    widget: bool = False,
    name: str = "canny",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Canny: ``email``, ``id``, ``name``; ``canny.io/api/redirects/sso?companyID=&ssoToken=&redirect=``.

    Follows Canny's "Single Sign-On: redirect" guide (https://developers.canny.io/install/sso-redirect).
    Canny's ``redirect`` may point at ``canny.io`` or ``*.canny.io``, always, plus ``hosts``
    (your board's custom domain, e.g. ``["feedback.acme.com"]``); ``companyID`` is passed back.

    ==============  =========  ======================================
    claim           required   from
    ==============  =========  ======================================
    email, id,      yes        ``Principal.email``, ``.id``, ``.name``
    name
    avatarURL,      no         ``extra_claims``
    companies,
    customFields
    ==============  =========  ======================================

    Lifetime: ``exp`` is optional at Canny (its Node example signs only ``iat``); a stand-in
    for Canny accepts such tokens.

    ``widget=True`` also answers the signed-in user's own pages at ``/sso/canny/token``
    (``{"token": …, "expires_at": …}``, same-origin only) for Canny's widget: "When a user wants
    to use the widget, send a request to your server to generate an SSO token … Pass the token
    back to your app and into our widget" ("Single Sign-On", https://developers.canny.io/install/widget/sso).
    The page passes it as ``ssoToken`` to ``Canny('identify', {appID, ssoToken})`` (that call's
    exact shape is not in the page text we could read: UNCONFIRMED); render it with
    :func:`sso_middleware.snippets.canny_widget`. The redirect login keeps working beside it.

    >>> canny(key="a-secret-of-at-least-thirty-two-bytes!").returns.echo
    ('companyID',)
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email"), ("id", "id"), ("name", "name")]),
        required=("email", "id", "name"), identity=("id",), expiry_optional=True,
        destination=Destination("https://canny.io/api/redirects/sso", QueryParameter("ssoToken")),
        returns=ReturnRules("redirect", hosts=vendor_hosts(name, ["canny.io", "*.canny.io"], hosts),
                            forward_as="redirect", echo=("companyID",)),
        page_fetch=widget_fetch(widget, name),
    )


__all__ = ["canny"]
