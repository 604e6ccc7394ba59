"""Upvoty feedback boards.

Follows Upvoty's SSO as its WordPress plugin (upvoty-wp) implements it; Upvoty's own guide
(https://upvoty.com) is not public text.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import TOKEN, PathSegment
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import dns_label, fields, make_service, vendor_hosts


def upvoty(
    *,
    key: KeyInput | TenantKey,
    board: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "upvoty",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Upvoty: the token as a path segment, ``/front/handleSSO/<token>/?redirectUrl=…``.

    Follows Upvoty's SSO as implemented by its WordPress plugin (upvoty-wp, third-party code:
    "Required: id, name", "Optional but preferred: email, avatar", HS256, the base
    ``https://{board}.upvoty.com/front/handleSSO/`` + token + ``/`` and ``redirectUrl``
    "from Upvoty directly"), which an independent integration (guild.xyz) matches. Upvoty's
    own SSO guide (https://upvoty.com) is behind its dashboard: these facts are UNCONFIRMED
    from a vendor page. ``redirectUrl`` must be on ``{board}.upvoty.com`` or ``hosts``
    (a custom domain).

    ======  =========  ===========================================
    claim   required   from
    ======  =========  ===========================================
    id      yes        ``Principal.id`` (type kept)
    name    yes        ``Principal.name``
    email   no         ``Principal.email`` ("optional but preferred")
    avatar  no         ``Principal.attributes["avatar"]`` (an image URL)
    ======  =========  ===========================================

    Lifetime: the plugin signs no ``exp``; a stand-in accepts that.

    >>> upvoty(key="a-secret-of-at-least-thirty-two-bytes!", board="acme").destination.target
    'https://acme.upvoty.com/front/handleSSO/{token}/'
    """
    host = "{}.upvoty.com".format(dns_label(board, name, "board must be your Upvoty subdomain"))
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("id", "id"), ("name", "name")], [("email", "email"), ("avatar", "avatar")]),
        required=("id", "name"), identity=("id",), expiry_optional=True,
        destination=Destination(f"https://{host}/front/handleSSO/{TOKEN}/", PathSegment()),
        returns=ReturnRules("redirectUrl", hosts=vendor_hosts(name, [host], hosts), forward_as="redirectUrl"),
    )


__all__ = ["upvoty"]
