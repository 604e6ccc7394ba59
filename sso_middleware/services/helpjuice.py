"""Helpjuice knowledge base (``iat`` in milliseconds).

Follows https://help.helpjuice.com/authentication/sso-with-json-web-token.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, Service
from ._common import dns_label, fields, make_service, with_names


def helpjuice(
    *,
    key: KeyInput,
    subdomain: str,
    name: str = "helpjuice",
    ttl: int = 180,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Helpjuice: ``email`` and names signed to ``https://helpjuice.com/jwt/{subdomain}?jwt=``,
    ``iat`` in **milliseconds**.

    Follows "Single Sign On with JSON Web Token"
    (https://help.helpjuice.com/authentication/sso-with-json-web-token): ``jti`` required ("to
    prevent replay attacks"); ``iat`` required, "the token creation time in milliseconds since
    Unix epoch. Helpjuice will only accept tokens up to 3 minutes old"; ``email`` required;
    ``first_name``, ``last_name`` optional; signed with the Shared Secret from the settings
    page (the algorithm is not named: HS256 assumed, UNCONFIRMED). ``exp`` is stamped in
    seconds as RFC 7519 has it (Helpjuice does not mention it). The stand-in reads ``iat`` in
    milliseconds and refuses a token older than 3 minutes, as Helpjuice does. The page's later
    sections (a return page after sign-in, role and group sync) are not followed here
    (UNCONFIRMED): ``role``/groups go in ``extra_claims``.

    ====================  =========  ==============================================
    claim                 required   from
    ====================  =========  ==============================================
    iat                   yes        stamped, milliseconds since the epoch
    jti                   yes        stamped (with ``exp``, seconds)
    email                 yes        ``Principal.email``
    first_name,           no         ``Principal.name``, split at its first space
    last_name
    ====================  =========  ==============================================

    >>> helpjuice(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").token.iat_in_ms
    True
    """
    host = dns_label(subdomain, name, "subdomain must be your Helpjuice subdomain")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, iat_in_ms=True,
        claims=with_names(fields([("email", "email")])), required=("jti", "iat", "email"),
        identity=("email",),
        max_age=180, destination=Destination(f"https://helpjuice.com/jwt/{host}", QueryParameter("jwt")),
    )


__all__ = ["helpjuice"]
