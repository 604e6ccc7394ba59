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
    The page renders the board with it: ``Canny('render', {boardToken, basePath, ssoToken})``,
    as Canny's install snippet does (``ssoToken: null, // See step 3``, step 3 being the SSO
    token) and as Canny's own React example passes the signed-in viewer's token
    (https://gist.github.com/arasmussen/67057c7cf24dbaa65161eda92fb0319f, "Render Canny's
    feedback widget in ReactJS", by Canny's co-founder); render it with
    :func:`sso_middleware.snippets.canny_widget`. (``Canny('identify', ...)`` is the other SDK
    call: it identifies users without a token.) The redirect login keeps working beside it.

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
