"""UserJot boards.

Follows https://userjot.com/docs/single-sign-on.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantKey
from ._common import fields, make_service


def userjot(
    *,
    key: KeyInput | TenantKey,
    name: str = "userjot",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """UserJot boards: to ``https://api.userjot.com/auth/sso?jwt=<token>&state=<state>``.

    Follows "Single sign-on" (https://userjot.com/docs/single-sign-on): UserJot sends
    ``state``, which is echoed back unchanged; the token is signed with the project secret.

    ======  =========  ==================
    claim   required   from
    ======  =========  ==================
    id      yes        ``Principal.id`` as a string
    email   yes        ``Principal.email``
    name    no         ``Principal.name``
    ======  =========  ==================

    >>> userjot(key="a-secret-of-at-least-thirty-two-bytes!").returns.echo
    ('state',)
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("id", "id"), ("email", "email")], [("name", "name")], text=["id"]),
        required=("id", "email"), identity=("id",),
        destination=Destination("https://api.userjot.com/auth/sso", QueryParameter("jwt")),
        returns=ReturnRules(echo=("state",)),
    )


__all__ = ["userjot"]
