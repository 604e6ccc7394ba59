"""LaunchNotes private pages.

Follows https://help.launchnotes.com/en/articles/5653941-jwt-json-web-token-authentication-for-private-pages.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, Service, TenantKey
from ._common import fields, https_page, make_service


def launchnotes(
    *,
    key: KeyInput | TenantKey,
    page: str,
    name: str = "launchnotes",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """LaunchNotes private pages: to ``{page}?authToken=<token>`` (a 24-hour LaunchNotes session).

    Follows "JWT authentication for private pages"
    (https://help.launchnotes.com/en/articles/5653941-jwt-json-web-token-authentication-for-private-pages);
    ``page`` is your private page's URL, e.g. ``https://updates.acme.com``.

    ======  =========  ==================
    claim   required   from
    ======  =========  ==================
    email   yes        ``Principal.email``
    name    no         ``Principal.name``
    ======  =========  ==================

    >>> launchnotes(key="a-secret-of-at-least-thirty-two-bytes!",
    ...             page="https://updates.acme.com").destination.placement
    QueryParameter('authToken')
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",),
        destination=Destination(https_page(page, name, "page must be your private page's https URL"),
                                QueryParameter("authToken")),
    )


__all__ = ["launchnotes"]
