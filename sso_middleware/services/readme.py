"""ReadMe (custom login: the token in the docs' query).

Follows https://docs.readme.com/main/docs/custom-login-page.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, https_page, make_service


def readme(
    *,
    key: KeyInput,
    site: str,
    name: str = "readme",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """ReadMe: the user's details signed into ``{site}?auth_token=<token>``, with ReadMe's
    ``redirect`` (a page of the docs) passed on.

    Follows "Custom Login Page" (https://docs.readme.com/main/docs/custom-login-page) and its
    snippet ``sign(user, config.jwt_secret)`` then ``"https://yourproject.readme.io?auth_token="
    + jwt``; "linking to a specific page ... must include a redirect as a query parameter"
    (``&redirect=/page``). The snippet uses ``jsonwebtoken``'s default, HS256, with the
    project's JWT secret, and signs no ``exp`` (ReadMe takes tokens without one; the stand-in
    too, unless ``strict=True``). The user object's full schema (API keys as ``apiKey`` or
    ``keys``, custom variables) is on ReadMe's "User Data" page, not re-read for this preset
    (UNCONFIRMED here): give those fields through ``extra_claims``.

    ========  =========  ============================================
    claim     required   from
    ========  =========  ============================================
    email     yes        ``Principal.email``
    name      no         ``Principal.name``
    keys,     no         ``extra_claims`` (the user's API keys, variables)
    apiKey
    ========  =========  ============================================

    >>> readme(key="a-secret-of-at-least-thirty-two-bytes!", site="https://acme.readme.io").destination.target
    'https://acme.readme.io/'
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email")], [("name", "name")]), required=("email",), identity=("email",),
        destination=Destination(https_page(site, name, "site must be your ReadMe docs' https address, "
                                           "e.g. 'https://acme.readme.io'"), QueryParameter("auth_token")),
        returns=ReturnRules("redirect", relative=True, forward_as="redirect"), expiry_optional=True,
    )


__all__ = ["readme"]
