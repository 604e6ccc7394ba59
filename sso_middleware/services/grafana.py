"""Grafana JWT authentication with URL login.

Follows https://grafana.com/docs/grafana/latest/setup-grafana/configure-access/configure-authentication/jwt/.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, https_site, make_service


def grafana(
    *,
    key: KeyInput,
    url: str,
    algorithm: str = "RS256",
    name: str = "grafana",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Grafana JWT authentication with URL login: ``{url}{path}?auth_token=<token>``.

    Follows "Configure JWT authentication"
    (https://grafana.com/docs/grafana/latest/setup-grafana/configure-access/configure-authentication/jwt/):
    Grafana verifies the token against your JWKS (``jwk_set_url =
    https://app.acme.com/sso/.well-known/jwks.json``, which the issuer serves) and, with
    ``url_login = true``, takes it from ``?auth_token=``. ``/sso/grafana?redirect=/d/abc``
    sends the browser to that Grafana page (a relative path, checked).

    ====  =========  ==========================================================
    claim required   from (set ``username_claim = sub``, ``email_claim = email``)
    ====  =========  ==========================================================
    sub   yes        ``Principal.id`` as a string
    email yes        ``Principal.email``
    name  no         ``Principal.name``
    role  no         ``extra_claims`` (with ``role_attribute_path``)
    ====  =========  ==========================================================

    >>> from sso_middleware.keys import Key
    >>> grafana(key=Key.generate("RS256"), url="https://grafana.acme.com").returns.resolve(
    ...     "redirect=/d/abc").return_url
    'https://grafana.acme.com/d/abc'
    """
    base = https_site(url, name, "url must be your Grafana's https URL, e.g. 'https://grafana.acme.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, algorithm=algorithm,
        claims=fields([("sub", "id"), ("email", "email")], [("name", "name")], text=["sub"]),
        required=("sub", "email"), identity=("sub",),
        destination=Destination(placement=QueryParameter("auth_token")),
        returns=ReturnRules("redirect", relative=True, base=base),
    )


__all__ = ["grafana"]
