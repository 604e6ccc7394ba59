"""Mojo Helpdesk (the token in the help desk's query).

Follows https://help.mojohelpdesk.com/help/article/169615.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import Destination, ExtraClaims, Service
from ._common import fields, https_site, make_service, with_names


def mojo(
    *,
    key: KeyInput,
    helpdesk: str,
    name: str = "mojo",
    ttl: int = 120,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Mojo Helpdesk: ``email`` signed to ``{helpdesk}/jwt/consume?token=``.

    Follows "Enterprise Single Sign On with JWT" (https://help.mojohelpdesk.com/help/article/169615):
    the token goes to ``https://your-helpdesk-domain/jwt/consume?token=XXX``, signed with the
    shared secret configured in Mojo; ``iat`` is required, in seconds, and "Mojo treats tokens
    as expired if they are more than 2 minutes old" (the stand-in too; a ``ttl`` above 120 is
    flagged by ``sso-middleware check``). Mojo identifies contacts by email. The rest of the
    attribute list (names, roles) was cut off in the text retrieved for this preset:
    ``first_name``/``last_name`` follow Mojo's SAML attributes ("Below are the user attributes
    recognized by Mojo Helpdesk: first_name, last_name", https://help.mojohelpdesk.com/help/article/169614)
    and its API's user fields (mojohelpdesk/mojohelpdesk-api-doc); for JWT they stay
    UNCONFIRMED, as does the algorithm (HS256 here).

    ====================  =========  ==============================================
    claim                 required   from
    ====================  =========  ==============================================
    iat                   yes        stamped (with ``exp`` and ``jti``)
    email                 yes        ``Principal.email``
    first_name,           no         ``Principal.name``, split at its first space
    last_name                        (UNCONFIRMED)
    ====================  =========  ==============================================

    >>> mojo(key="a-secret-of-at-least-thirty-two-bytes!", helpdesk="https://acme.mojohelpdesk.com"
    ...      ).destination.target
    'https://acme.mojohelpdesk.com/jwt/consume'
    """
    site = https_site(helpdesk, name, "helpdesk must be your help desk's https address, e.g. "
                                      "'https://acme.mojohelpdesk.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=with_names(fields([("email", "email")])), required=("iat", "email"), identity=("email",),
        max_age=120, destination=Destination(f"{site}/jwt/consume"),
    )


__all__ = ["mojo"]
