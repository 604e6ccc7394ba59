"""Zendesk (the token POSTed by a form).

Follows https://support.zendesk.com/hc/en-us/articles/203663816.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import FormField
from ..service import Destination, ExtraClaims, ReturnRules, Service, TenantHosts, TenantKey
from ._common import dns_label, fields, make_service, vendor_hosts


def zendesk(
    *,
    key: KeyInput | TenantKey,
    subdomain: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "zendesk",
    ttl: int = 180,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Zendesk: ``name``/``email`` claims POSTed (field ``jwt``) to ``/access/jwt``.

    Follows "Enabling JWT single sign-on" and "Anatomy of a JWT request"
    (https://support.zendesk.com/hc/en-us/articles/203663816,
    https://support.zendesk.com/hc/en-us/articles/4408881965722) and Zendesk's Rails example:
    the token is POSTed by an auto-submitting form (GET is deprecated), and ``return_to``,
    ``brand_id``, ``locale_id`` and ``timestamp`` from Zendesk's request stay in the form's
    action URL. ``return_to`` must be on ``hosts``: ``{subdomain}.zendesk.com`` plus yours
    (brands and help centres on custom domains, e.g. ``["help.acme.com", "*.acme.com"]``).

    ================  =========  =====================================================
    claim             required   from
    ================  =========  =====================================================
    iat, jti          yes        added (Zendesk refuses an ``iat`` over 3 minutes old)
    name, email       yes        ``Principal.name``, ``Principal.email``
    external_id       no         ``Principal.id`` as a string
    organization,     no         ``extra_claims``
    tags, locale_id,
    remote_photo_url,
    user_fields
    ================  =========  =====================================================

    >>> zendesk(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").destination.placement
    FormField('jwt')
    """
    host = "{}.zendesk.com".format(dns_label(subdomain, name, "subdomain must be your Zendesk subdomain"))
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("name", "name"), ("email", "email")], [("external_id", "id")], text=["external_id"]),
        required=("name", "email", "iat", "jti"), identity=("email",), max_age=180,
        destination=Destination(f"https://{host}/access/jwt", FormField("jwt")),
        returns=ReturnRules("return_to", hosts=vendor_hosts(name, [host], hosts), forward_as="return_to",
                            echo=("brand_id", "locale_id", "timestamp")),
    )


__all__ = ["zendesk"]
