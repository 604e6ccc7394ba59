"""Knock in-app feeds in enhanced security mode (a fetched user token).

Follows https://docs.knock.app/in-app-ui/security-and-authentication.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import fields, make_service, only_algorithm, page_fetches


def knock(
    *,
    key: KeyInput,
    name: str = "knock",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Knock: the page fetches ``/sso/knock/token`` for the client SDK's ``userToken``.

    Follows "Security and authentication" (https://docs.knock.app/in-app-ui/security-and-authentication):
    with enhanced security mode on, the client sends the public API key and "a signed user
    token that identifies the user"; and Knock's own ``signUserToken('user-1', {expiresInSeconds,
    signingKey})`` (knocklabs/knock-node ``examples/token-signing.ts``): ``sub`` is the user id,
    ``iat`` and ``exp`` (an hour by default), signed with the environment's signing key, an
    RSA private key (RS256). Give the key as its PEM text (Knock shows it base64-encoded: decode
    it first). Grants (``grants``) go in ``extra_claims``. The issuer publishes the public half
    in its JWKS, as for any key pair.

    ========  =========  ==============================================
    claim     required   from
    ========  =========  ==============================================
    sub       yes        ``Principal.id`` as a string
    iat, exp  yes        stamped (``ttl``, default an hour), with ``jti``
    grants    no         ``extra_claims``
    ========  =========  ==============================================

    >>> from sso_middleware.keys import Key
    >>> knock(key=Key.generate("RS256")).token.algorithm
    'RS256'
    """
    return only_algorithm(make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, algorithm="RS256",
        claims=fields([("sub", "id")], text=["sub"]), required=("sub", "iat", "exp"), identity=("sub",),
        destination=page_fetches(),
    ), "Knock")


__all__ = ["knock"]
