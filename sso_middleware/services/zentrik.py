"""Zentrik Ideas Portal (a ``state`` round trip).

Follows https://zentrik.ai/docs/developers/ideas-portal-jwt-sso.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, https_site, make_service, with_names


def zentrik(
    *,
    key: KeyInput,
    portal: str,
    name: str = "zentrik",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Zentrik: a short-lived token to ``{portal}/api/portal/auth/jwt/callback?jwt=``, with the
    portal's ``state`` sent back unchanged.

    Follows "Set up Ideas Portal JWT SSO" (https://zentrik.ai/docs/developers/ideas-portal-jwt-sso):
    the callback URL is ``https://acme.ideas.zentrik.ai/api/portal/auth/jwt/callback?jwt=<token>``;
    "Do not generate a JWT before Zentrik redirects to your remote login URL, because the
    request includes a state value that must round-trip back to the callback"; your app
    provides "email, first name, last name, and optionally a stable user id" and account
    fields. The claim names, the algorithm (HS256 with the shared secret) and the lifetime
    Zentrik accepts are further down the page than the text retrieved for this preset
    (UNCONFIRMED): ``email``, ``first_name``, ``last_name``, ``user_id`` here; account fields go
    in ``extra_claims``.

    ====================  =========  ==============================================
    claim                 required   from
    ====================  =========  ==============================================
    email                 yes        ``Principal.email``
    first_name,           no         ``Principal.name``, split at its first space
    last_name                        (names UNCONFIRMED)
    user_id               no         ``Principal.id`` as a string (UNCONFIRMED)
    (account)             no         ``extra_claims``
    ====================  =========  ==============================================

    >>> zentrik(key="a-secret-of-at-least-thirty-two-bytes!", portal="https://acme.ideas.zentrik.ai"
    ...         ).destination.target
    'https://acme.ideas.zentrik.ai/api/portal/auth/jwt/callback'
    """
    site = https_site(portal, name, "portal must be your Ideas Portal's https address, e.g. "
                                    "'https://acme.ideas.zentrik.ai'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=with_names(fields([("email", "email")], [("user_id", "id")], text=["user_id"])),
        required=("email",), identity=("email",),
        destination=Destination(f"{site}/api/portal/auth/jwt/callback", QueryParameter("jwt")),
        returns=ReturnRules(echo=("state",)),
    )


__all__ = ["zentrik"]
