"""Metabase JWT SSO.

Follows https://www.metabase.com/docs/latest/people-and-groups/authenticating-with-jwt.
"""

from __future__ import annotations

from typing import Any

from ..keys import KeyInput
from ..placements import QueryParameter
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantKey, need
from ._common import https_site, make_service


def _first_last(user: Principal) -> dict[str, Any]:
    """Metabase's ``first_name``/``last_name`` from ``Principal.name`` (split at the first space)."""
    found: dict[str, Any] = {"email": need(user, "email")}
    first, _, last = (user.name or "").strip().partition(" ")
    if first:
        found["first_name"] = first
    if last.strip():
        found["last_name"] = last.strip()
    return found


def metabase(
    *,
    key: KeyInput | TenantKey,
    site: str,
    name: str = "metabase",
    ttl: int = 120,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Metabase JWT SSO: ``{site}/auth/sso?jwt=<token>&return_to=<relative path>``.

    Follows "JWT-based authentication"
    (https://www.metabase.com/docs/latest/people-and-groups/authenticating-with-jwt):
    Metabase sends ``return_to``, a relative path, checked to be one and passed back.
    Metabase refuses tokens issued more than 3 minutes ago, hence a short ``ttl``.

    ===========  =========  ==========================================
    claim        required   from
    ===========  =========  ==========================================
    email        yes        ``Principal.email``
    first_name,  no         ``Principal.name``, split at the first space
    last_name
    groups       no         ``extra_claims`` (group sync)
    ===========  =========  ==========================================

    >>> metabase(key="a-secret-of-at-least-thirty-two-bytes!", site="https://bi.acme.com").destination.target
    'https://bi.acme.com/auth/sso'
    """
    base = https_site(site, name, "site must be your Metabase's https URL, e.g. 'https://bi.acme.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, claims=_first_last,
        required=("email", "iat"), identity=("email",), max_age=180,
        destination=Destination(f"{base}/auth/sso", QueryParameter("jwt")),
        returns=ReturnRules("return_to", forward_as="return_to", relative=True),
    )


__all__ = ["metabase"]
