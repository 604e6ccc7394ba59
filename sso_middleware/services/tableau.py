"""Tableau connected apps (direct trust).

Follows https://help.tableau.com/current/online/en-us/connected_apps_direct.htm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ConfigurationError
from ..keys import Key
from ..placements import TokenEndpoint
from ..principal import Principal
from ..service import Destination, ExtraClaims, Service, TokenRules, need


def tableau(
    *,
    secret: str,
    secret_id: str,
    client_id: str,
    scopes: Iterable[str] = ("tableau:views:embed",),
    username: str = "email",
    name: str = "tableau",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Tableau connected apps (direct trust): the page fetches ``/sso/tableau/token`` for the
    embedding API's ``token`` attribute.

    Follows "Configure Connected Apps with Direct Trust"
    (https://help.tableau.com/current/online/en-us/connected_apps_direct.htm) and its
    troubleshooting page: HS256 with the connected app's secret value; the header names the
    secret id as ``kid`` and the client id as ``iss``; ``exp`` at most 10 minutes ahead (a
    longer ``ttl`` is refused here, and a stand-in refuses a longer token); ``sub`` is the
    Tableau username, by default the principal's email (``username=`` names another field).

    =====  =========  ==============================================
    claim  required   from
    =====  =========  ==============================================
    iss    yes        ``client_id``
    aud    yes        ``"tableau"``
    sub    yes        ``Principal.<username>`` (case-sensitive)
    scp    yes        ``scopes``
    jti    yes        stamped (with ``iat`` and ``exp``)
    (any)  no         ``extra_claims`` (user attributes)
    =====  =========  ==============================================

    >>> svc = tableau(secret="a-secret-of-at-least-thirty-two-bytes!", secret_id="s-1", client_id="c-1")
    >>> svc.keys.signing.kid, dict(svc.token.header)
    ('s-1', {'iss': 'c-1'})
    """
    for label, value in (("secret_id", secret_id), ("client_id", client_id)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                f"service {name!r}: {label} is the connected app's {label.replace('_', ' ')}."
            )
    scp = [scope for scope in scopes] if not isinstance(scopes, str) else [scopes]
    if not scp or not all(isinstance(scope, str) and scope for scope in scp):
        raise ConfigurationError(f"service {name!r}: scopes, e.g. ['tableau:views:embed'].")

    def claims(user: Principal) -> dict[str, Any]:
        return {"iss": client_id, "aud": "tableau", "sub": need(user, username), "scp": scp}

    rules = TokenRules(claims=claims, required=("sub", "scp", "jti"), identity=("sub",), ttl=ttl,
                       extra=extra_claims, header={"iss": client_id}, audience="tableau", max_lifetime=600)
    return Service(name=name, key=Key(secret, kid=secret_id, field=f"service {name!r}: secret"), token=rules,
                   destination=Destination(placement=TokenEndpoint(), path="/"))


__all__ = ["tableau"]
