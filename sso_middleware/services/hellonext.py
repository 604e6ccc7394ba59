"""Hellonext feedback portal (now featureOS; SSO redirects).

Follows https://hellonext.co/help/sso-redirects, https://hellonext.co/help/setting-up-sso and the
vendor's own code samples (skcript/featureos-sso-redirect).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..keys import KeyInput
from ..placements import QueryParameter
from ..service import Destination, ExtraClaims, ReturnRules, Service
from ._common import fields, make_service, vendor_hosts


def hellonext(
    *,
    key: KeyInput,
    hosts: Iterable[str],
    name: str = "hellonext",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Hellonext: reads ``redirect`` and ``domain``, sends ``email``/``name`` to
    ``https://app.hellonext.co/redirects/sso?domain=&ssoToken=&redirect=``.

    Follows "Understanding SSO Redirects" (https://hellonext.co/help/sso-redirects): "we'll
    include a redirect query parameter. You will need to send users back to us with both the
    redirect URL and SSO token"; its snippet reads ``redirect`` (which must start with
    ``https://``) and ``domain``; and "Setting up Single Sign-on"
    (https://hellonext.co/help/setting-up-sso): ``jwt.sign({email, name}, SSO_KEY, {algorithm:
    "HS256"})``, no ``exp``. The return address is in the vendor's own examples ("Code Samples
    for Hellonext's SSO Redirect", skcript/featureos-sso-redirect: ``ruby/app.rb``,
    ``python/app.py``, ``onelogin-sso-next/lib/utils.js``):
    ``https://app.hellonext.co/redirects/sso?domain=…&redirect=…&ssoToken=…`` (featureOS'
    renamed help page returns to ``app.featureos.app`` instead; this preset keeps the host of
    Hellonext's page and samples). One older sample there names the token ``token=``; the
    others and the OneLogin example use ``ssoToken``, as here. ``redirect`` must be on ``hosts`` (your board,
    e.g. ``["feedback.acme.com"]``). Embeds take the same token
    (``hellonext.init({embedURL, ssoToken})``).

    ===============  =========  ===============================================
    claim            required   from
    ===============  =========  ===============================================
    email            yes        ``Principal.email``
    name             yes        ``Principal.name``
    avatar, labels,  no         ``extra_claims`` (the vendor's OneLogin example
    add_as_customer             lists them as optional)
    ===============  =========  ===============================================

    >>> hellonext(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"]).returns.echo
    ('domain',)
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, expiry_optional=True,
        claims=fields([("email", "email"), ("name", "name")]), required=("email", "name"),
        identity=("email",),
        destination=Destination("https://app.hellonext.co/redirects/sso", QueryParameter("ssoToken")),
        returns=ReturnRules("redirect", hosts=vendor_hosts(name, [], hosts), forward_as="redirect",
                            echo=("domain",)),
    )


__all__ = ["hellonext"]
