"""Metabase JWT SSO, and the JSON answer its embedding SDK asks for.

Follows https://www.metabase.com/docs/latest/people-and-groups/authenticating-with-jwt and
https://www.metabase.com/docs/latest/embedding/authentication.
"""

from __future__ import annotations

from typing import Any

from ..keys import KeyInput
from ..placements import QueryParameter, TokenEndpoint
from ..principal import Principal
from ..service import Destination, ExtraClaims, PageFetch, ReturnRules, Service, TenantKey, need
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

    Metabase's embedding SDK calls the same login path with ``?response=json`` and expects
    ``{"jwt": "<token>"}`` (here with ``expires_at`` beside it; "Modular embedding - authentication",
    https://www.metabase.com/docs/latest/embedding/authentication: the endpoint "must return a
    JSON object with a jwt property"). That answer goes to same-origin requests only, is never
    cached, and an anonymous visitor gets a ``401`` in JSON, as the token endpoint's does;
    browsers without the parameter are redirected as before. (The ``token=true`` parameter
    interactive embedding adds is passed over: its meaning is UNCONFIRMED.)

    ===========  =========  ==========================================
    claim        required   from
    ===========  =========  ==========================================
    email        yes        ``Principal.email``
    first_name,  no         ``Principal.name``, split at the first space
    last_name
    groups       no         ``extra_claims`` (group sync)
    ===========  =========  ==========================================

    >>> svc = metabase(key="a-secret-of-at-least-thirty-two-bytes!", site="https://bi.acme.com")
    >>> svc.destination.target, svc.answering("response=json").fetched
    ('https://bi.acme.com/auth/sso', True)
    """
    base = https_site(site, name, "site must be your Metabase's https URL, e.g. 'https://bi.acme.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, claims=_first_last,
        required=("email", "iat"), identity=("email",), max_age=180,
        destination=Destination(f"{base}/auth/sso", QueryParameter("jwt")),
        returns=ReturnRules("return_to", forward_as="return_to", relative=True),
        page_fetch=PageFetch(TokenEndpoint(member="jwt"), when=("response", "json")),
    )


__all__ = ["metabase"]
