"""Help Scout Docs restricted sites.

Follows https://developer.helpscout.com/docs-api/restricted-docs/.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from ..keys import KeyInput
from ..redirects import host_key
from ..service import ClaimBuilder, Destination, ExtraClaims, ReturnRules, Service, TenantKey
from ._common import fields, make_service


def helpscout(
    *,
    key: KeyInput | TenantKey,
    site: str,
    claims: ClaimBuilder | None = None,
    name: str = "helpscout",
    ttl: int = 8 * 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Help Scout Docs restricted sites: HS512, ``{site}/authcallback?token=&returnTo=``.

    Follows "Restricted Docs" (https://developer.helpscout.com/docs-api/restricted-docs/):
    Help Scout sends ``returnTo`` as a relative path; it is checked to be one and passed back.
    ``exp`` is the reader's Docs *session* length (a short one sends readers back through
    ``/signin``), hence ``ttl`` of 8 hours. Help Scout issues 44-character secrets, which are
    used as they are and not warned about.

    =====  =========  ============================
    claim  required   from
    =====  =========  ============================
    sub    yes        ``Principal.email``
    name   no         ``Principal.name``
    exp    yes        the session's end (``ttl``)
    =====  =========  ============================

    >>> svc = helpscout(key="k" * 44, site="https://docs.acme.com")
    >>> svc.destination.target, svc.token.algorithm
    ('https://docs.acme.com/authcallback', 'HS512')
    """
    if not isinstance(site, str) or host_key(site) is None or site.rstrip("/").count("/") > 2:
        raise ConfigurationError(
            f"service {name!r}: site must be your Docs site's base URL, e.g. "
            "'https://docs.acme.com' or 'https://acme.helpscoutdocs.com'."
        )
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=claims or fields([("sub", "email")], [("name", "name")]),
        required=("sub",), identity=("sub",), algorithm="HS512", min_key_length=44,
        destination=Destination(f"{site.rstrip('/')}/authcallback"),
        returns=ReturnRules("returnTo", forward_as="returnTo", relative=True),
    )


__all__ = ["helpscout"]
