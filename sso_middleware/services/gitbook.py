"""GitBook authenticated access.

Follows https://gitbook.com/docs/publishing-documentation/authenticated-access/setting-up-a-custom-backend.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantKey
from ._common import fields, https_site, make_service


def gitbook(
    *,
    key: KeyInput | TenantKey,
    site: str,
    name: str = "gitbook",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """GitBook authenticated access: ``{site}{location}?jwt_token=<token>``.

    Follows "Setting up a custom backend"
    (https://gitbook.com/docs/publishing-documentation/authenticated-access/setting-up-a-custom-backend):
    GitBook sends the visitor's ``location``, a relative path, checked to be one; the browser
    goes to that page of ``site`` with the token.

    ============  =========  ================================================
    claim         required   from
    ============  =========  ================================================
    sub           yes        ``Principal.id`` as a string (names the visitor)
    (any)         no         ``extra_claims`` (adaptive content attributes)
    ============  =========  ================================================

    >>> svc = gitbook(key="a-secret-of-at-least-thirty-two-bytes!", site="https://docs.acme.com")
    >>> svc.returns.resolve("location=/guides/setup").return_url
    'https://docs.acme.com/guides/setup'
    """
    base = https_site(site, name, "site must be your GitBook site's https URL, e.g. 'https://docs.acme.com'")
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("sub", "id")], text=["sub"]), required=("sub",), identity=("sub",),
        destination=Destination(placement=QueryParameter("jwt_token")),
        returns=ReturnRules("location", relative=True, base=base),
    )


__all__ = ["gitbook"]
