"""Frill feedback boards.

Follows Frill's "Single Sign-On (SSO)" guide (https://help.frill.co).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..redirects import AllowedHosts
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import fields, make_service


def frill(
    *,
    key: KeyInput | TenantKey,
    hosts: Iterable[str] | TenantHosts,
    default_redirect: str | None = None,
    name: str = "frill",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Frill: ``email``, ``id``, ``name``; back to Frill's ``redirect`` with ``ssoToken`` added.

    Follows Frill's "Single Sign-On (SSO)" guide (https://help.frill.co, "SSO"): Frill sends
    the browser to ``/sso/frill?redirect=<board URL>``, which must be on ``hosts`` (your
    board's custom domain or ``acme.frill.co``); without one, ``default_redirect``, by
    default the root of the first host.

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
    )


__all__ = ["frill"]
