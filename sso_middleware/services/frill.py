"""Frill feedback boards.

Follows Frill's "SSO implementation" (https://help.frill.co/article/65-sso-implementation) and,
for widgets, "Identifying users" (https://developers.frill.co/frill-script/identifying-users).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..redirects import AllowedHosts
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import fields, make_service, widget_fetch


def frill(
    *,
    key: KeyInput | TenantKey,
    hosts: Iterable[str] | TenantHosts,
    default_redirect: str | None = None,
    widget: bool = False,
    name: str = "frill",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Frill: ``email``, ``id``, ``name``; back to Frill's ``redirect`` with ``ssoToken`` added.

    Follows Frill's "SSO implementation" (https://help.frill.co/article/65-sso-implementation):
    Frill sends the browser to ``/sso/frill?redirect=<board URL>``, which must be on ``hosts``
    (your board's custom domain or ``acme.frill.co``); without one, ``default_redirect``, by
    default the root of the first host. (The name ``ssoToken`` for the returned token is not
    in that page's text; it is the Frill Script's, below, and production code's.)

    ``widget=True`` also answers the signed-in user's own pages at ``/sso/frill/token``
    (``{"token": …, "expires_at": …}``, same-origin only) for the Frill Script: "You can
    identify SSO users by passing a signed SSO JWT", ``Frill('container', {key, ssoToken})`` or
    ``Frill('identify', {ssoToken})`` ("Identifying users",
    https://developers.frill.co/frill-script/identifying-users); render the page's call with
    :func:`sso_middleware.snippets.frill_widget`. The redirect login keeps working beside it.

    ========  =========  ===========================================
    claim     required   from
    ========  =========  ===========================================
    email     yes        ``Principal.email``
    id        yes        ``Principal.id`` (type kept)
    name      yes        ``Principal.name``
    avatar    no         ``extra_claims`` (an image URL)
    ========  =========  ===========================================

    Lifetime: Frill's own PHP example signs no ``exp``; we add ``iat``/``exp`` (``ttl``) and
    ``jti``. A receiver standing in for Frill accepts tokens without ``exp``, as Frill does.

    >>> svc = frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"])
    >>> svc.returns.default
    'https://feedback.acme.com/'
    >>> sorted(frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"],
    ...              widget=True).login_paths("/sso"))
    ['/sso/frill', '/sso/frill/token']
    """
    allowed = hosts if callable(hosts) else AllowedHosts(hosts, field=f"service {name!r}: hosts")
    first = None if callable(allowed) else allowed.first()
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email"), ("id", "id"), ("name", "name")]),
        required=("email", "id", "name"), identity=("id",), expiry_optional=True,
        destination=Destination(placement=QueryParameter("ssoToken")),
        returns=ReturnRules(
            "redirect", hosts=allowed,
            default=default_redirect or (f"https://{first}/" if first is not None else None),
        ),
        page_fetch=widget_fetch(widget, name),
    )


__all__ = ["frill"]
