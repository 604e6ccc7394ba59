"""LoopedIn (the token back on LoopedIn's ``returnURL``).

Follows https://loopedin.zohodesk.com/portal/en/kb/articles/single-sign-on-2-8-2021.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, make_service, vendor_hosts


def loopedin(
    *,
    key: KeyInput,
    hosts: Iterable[str] = (),
    name: str = "loopedin",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """LoopedIn: ``email``/``name`` back on the ``returnURL`` LoopedIn sent, as ``?token=``.

    Follows "Single Sign-On" (https://loopedin.zohodesk.com/portal/en/kb/articles/single-sign-on-2-8-2021,
    also https://app.loopedin.io/loopedin/kb/authentication/single-sign-on): "we provide a
    returnURL parameter, which should be used when returning the user back to LoopedIn"; the
    token goes in "the query string with the variable name token", e.g.
    ``https://app.loopedin.io/<your-product-slug>?token=...``; "we require an email field and
    a name field"; HS256 with the SSO key; the Node example signs no ``exp`` (LoopedIn takes
    tokens without one; the stand-in too, unless ``strict=True``). ``returnURL`` must be on
    ``app.loopedin.io`` or ``hosts`` (your custom domain). Every product shares that host, so a
    ``returnURL`` naming another product's slug is accepted too; only your own product's key
    verifies the token.

    =====  =========  =====================================================
    claim  required   from
    =====  =========  =====================================================
    email  yes        ``Principal.email`` ("we require an email field")
    name   yes        ``Principal.name`` ("and a name field")
    (any)  no         ``extra_claims``
    =====  =========  =====================================================

    >>> loopedin(key="a-secret-of-at-least-thirty-two-bytes!").returns.param
    'returnURL'
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, expiry_optional=True,
        claims=fields([("email", "email"), ("name", "name")]), required=("email", "name"),
        identity=("email",),
        destination=Destination(),
        returns=ReturnRules("returnURL", hosts=vendor_hosts(name, ["app.loopedin.io"], hosts)),
    )


__all__ = ["loopedin"]
