"""Freshworks (Freshdesk, Freshservice) custom JWT SSO.

Follows https://support.freshworks.com/support/solutions/articles/50000000670.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..keys import KeyInput
from ..placements import QueryParameter
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service, need, optional
from ._common import dns_label, make_service, only_algorithm, vendor_hosts


def _given_family(user: Principal) -> dict[str, Any]:
    """``given_name``/``family_name`` from ``Principal.name``, split at the first space."""
    first, _, last = str(optional(user, "name") or "").partition(" ")
    return {k: v for k, v in (("given_name", first), ("family_name", last.strip())) if v}


def freshworks(
    *,
    key: KeyInput,
    org: str,
    hosts: Iterable[str] = (),
    name: str = "freshworks",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Freshworks (Freshdesk, Freshservice) custom JWT SSO: RS256, back to ``redirect_uri``.

    Follows "How to configure SSO with custom JWT implementation"
    (https://support.freshworks.com/support/solutions/articles/50000000670) and "Setting up
    the ID token" (supportsandbox.freshdesk.com, article 11000000028109): Freshworks sends
    ``/sso/freshworks?response_type=id_token&client_id=…&state=…&nonce=…&redirect_uri=
    https://{org}.freshworks.com/sp/OIDC/{id}/implicit``; the browser goes back to
    ``redirect_uri`` (which must be on ``{org}.freshworks.com`` or ``hosts``) with
    ``state=<unchanged>&id_token=<token>``. ``key`` is your RSA private key (PEM or JWK, at
    least 2,048 bits); paste its public half (``Key(...).public_pem()``) into Freshworks.

    ===========  =========  ==========================================================
    claim        required   from
    ===========  =========  ==========================================================
    sub          yes        ``Principal.id`` as a string
    email        yes        ``Principal.email``
    iat          yes        stamped (with ``exp`` and ``jti``)
    nonce        yes        Freshworks' request, copied in (a request without one is a 400)
    given_name,  no         ``Principal.name``, split at the first space
    family_name
    phone, ...   no         ``extra_claims``
    ===========  =========  ==========================================================

    >>> from sso_middleware.keys import Key
    >>> svc = freshworks(key=Key.generate("RS256"), org="acme")
    >>> svc.token.algorithm, svc.returns.copy["nonce"], svc.returns.echo
    ('RS256', 'nonce', ('state',))
    """
    host = f"{dns_label(org, name, 'org must be your Freshworks subdomain')}.freshworks.com"

    def claims(user: Principal) -> dict[str, Any]:
        return {"sub": str(need(user, "id")), "email": need(user, "email"), **_given_family(user)}

    return only_algorithm(make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, claims=claims, algorithm="RS256",
        required=("sub", "email", "iat", "nonce"), identity=("sub",),
        destination=Destination(placement=QueryParameter("id_token")),
        returns=ReturnRules("redirect_uri", hosts=vendor_hosts(name, [host], hosts), echo=("state",),
                            copy={"nonce": "nonce"}),
    ), "Freshworks")


__all__ = ["freshworks"]
