"""HappyFox help desk (the token in the support centre's query).

Follows https://support.happyfox.com/kb/article/291-enable-single-sign-on-with-json-web-token-jwt.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import Destination, ExtraClaims, Service
from ._common import dns_label, fields, make_service


def happyfox(
    *,
    key: KeyInput,
    account: str,
    name: str = "happyfox",
    ttl: int = 180,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """HappyFox: ``name``/``email`` signed to ``https://{account}.happyfox.com/jwt/?token=``.

    Follows "Enable Single Sign On with JSON Web Token (JWT)"
    (https://support.happyfox.com/kb/article/291-enable-single-sign-on-with-json-web-token-jwt):
    "The fields iat and jti are required fields"; ``iat`` in seconds since the epoch, "used
    to help ensure that a given token gets used shortly after it's generated"; ``jti`` "used to
    prevent token from being used multiple times"; the sample payload carries ``name`` and
    ``email``; the key is "a 32 character alphanumeric string" HappyFox fills in (HS256, from
    jwt.io's default: the algorithm is not named on the page, UNCONFIRMED). HappyFox's maximum
    ``iat`` age is not stated (UNCONFIRMED): the token lives ``ttl`` seconds (default 3
    minutes). Fantastic plan and up. A custom domain: use :func:`~sso_middleware.services.generic`
    with its ``/jwt/`` URL.

    ========  =========  ================================
    claim     required   from
    ========  =========  ================================
    iat, jti  yes        stamped (with ``exp``)
    email     yes        ``Principal.email``
    name      no         ``Principal.name``
    (any)     no         ``extra_claims``
    ========  =========  ================================

    >>> happyfox(key="k" * 32, account="acme").destination.target
    'https://acme.happyfox.com/jwt/'
    """
    host = dns_label(account, name, "account must be your HappyFox account name")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, min_key_length=32,
        claims=fields([("email", "email")], [("name", "name")]), required=("iat", "jti", "email"),
        identity=("email",), destination=Destination(f"https://{host}.happyfox.com/jwt/"),
    )


__all__ = ["happyfox"]
