"""UserJot boards.

Follows https://userjot.com/docs/single-sign-on and https://userjot.com/docs/widget-v3-signed-identity.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ..keys import KeyInput
from ..placements import QueryParameter
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantKey, TokenRules, need, optional

MAX_LIFETIME = 3600
"""UserJot refuses a token whose ``exp`` is more than 1 hour after its ``iat``."""


def _userjot_claims(project_id: str) -> Any:
    """``sub``, ``iss``, ``aud`` and the optional profile fields, ``firstName``/``lastName`` from ``name``."""

    def claims(user: Principal) -> dict[str, Any]:
        found: dict[str, Any] = {"sub": str(need(user, "id")), "iss": project_id, "aud": "userjot"}
        first, _, last = (user.name or "").strip().partition(" ")
        for claim, value in (("email", optional(user, "email")), ("firstName", first or None),
                             ("lastName", last.strip() or None), ("avatar", optional(user, "avatar"))):
            if value is not None:
                found[claim] = value
        return found

    return claims


def userjot(
    *,
    key: KeyInput | TenantKey,
    project_id: str,
    name: str = "userjot",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """UserJot boards: to ``https://api.userjot.com/auth/sso?jwt=<token>&state=<state>``.

    Follows "Single sign-on" (https://userjot.com/docs/single-sign-on): UserJot sends the
    browser to your SSO URL with ``state``, which goes back unchanged with the token, signed
    HS256 with the *Project secret*. The claims are those of "Signed identity"
    (https://userjot.com/docs/widget-v3-signed-identity): ``sub``, ``iss`` (your *Project ID*,
    Settings → Login → Secrets), ``aud`` the exact string ``userjot``, ``iat`` and ``exp``, at
    most 1 hour after ``iat``: a ``ttl`` above 3,600 s is refused here, and a stand-in refuses a
    token valid for longer, with another ``iss`` or without ``aud``. The board SSO page's
    suggested lifetime is 5 to 15 minutes (the 5-15 min advice is quoted by a third-party
    summary of that page; the page text we could read does not repeat it: UNCONFIRMED).

    =========  =========  ==============================================
    claim      required   from
    =========  =========  ==============================================
    sub        yes        ``Principal.id`` as a string
    iss        yes        ``project_id``
    aud        yes        ``"userjot"``
    iat, exp   yes        stamped (``exp`` = ``iat`` + ``ttl``, ≤ 1 h)
    email      no         ``Principal.email``
    firstName, no         ``Principal.name``, split at the first space
    lastName
    avatar     no         ``Principal.attributes["avatar"]`` (an image URL)
    traits,    no         ``extra_claims``
    companies
    =========  =========  ==============================================

    >>> svc = userjot(key="a-secret-of-at-least-thirty-two-bytes!", project_id="p-123")
    >>> svc.returns.echo, svc.token.audience, svc.token.issuer
    (('state',), 'userjot', 'p-123')
    """
    if not isinstance(project_id, str) or not project_id.strip():
        raise ConfigurationError(
            f"service {name!r}: project_id is your UserJot Project ID (Settings → Login → Secrets)."
        )
    rules = TokenRules(
        claims=_userjot_claims(project_id), required=("sub", "iss", "aud", "iat", "exp"), identity=("sub",),
        ttl=ttl, extra=extra_claims, audience="userjot", issuer=project_id, max_lifetime=MAX_LIFETIME,
    )
    return Service(name=name, key=key, token=rules,
                   destination=Destination("https://api.userjot.com/auth/sso", QueryParameter("jwt")),
                   returns=ReturnRules(echo=("state",)))


__all__ = ["userjot"]
