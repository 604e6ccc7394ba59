"""ReadMe (custom login: the token in the docs' query).

Follows https://docs.readme.com/main/docs/custom-login-page and
https://docs.readme.com/main/docs/user-data-options.
"""

from __future__ import annotations

from typing import Any

from ..keys import KeyInput
from ..placements import QueryParameter
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, https_page, make_service

_NAME_AND_EMAIL = fields([("name", "name"), ("email", "email")])


def _user_data(user: Principal) -> dict[str, Any]:
    return {**_NAME_AND_EMAIL(user), "version": 1}


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
    too, unless ``strict=True``). The user object follows "User Data Options"
    (https://docs.readme.com/main/docs/user-data-options): ``name`` ("Display name in upper
    right", required), ``email`` (required there; "No, but highly suggested" in ReadMe's newer
    text; required here, it names the user), and ``"version": 1`` ("Required, if omitted things
    can break unexpectedly"), signed here; the rest (``apiKey`` or ``keys`` as
    ``[{"apiKey", "name"}]``, ``isAdmin``, ``isReadOnly``, ``user``, ``pass``,
    ``allowedProjects``, ``parameters``, any variable for the docs) goes in ``extra_claims``.

    ===============  =========  ============================================
    claim            required   from
    ===============  =========  ============================================
    name             yes        ``Principal.name``
    email            yes        ``Principal.email``
    version          yes        ``1``
    apiKey, keys,    no         ``extra_claims`` (the user's API keys,
    isAdmin, ...                variables)
    ===============  =========  ============================================

    >>> readme(key="a-secret-of-at-least-thirty-two-bytes!", site="https://acme.readme.io").destination.target
    'https://acme.readme.io/'
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_user_data, required=("name", "email", "version"), identity=("email",),
        destination=Destination(https_page(site, name, "site must be your ReadMe docs' https address, "
                                           "e.g. 'https://acme.readme.io'"), QueryParameter("auth_token")),
        returns=ReturnRules("redirect", relative=True, forward_as="redirect"), expiry_optional=True,
    )


__all__ = ["readme"]
