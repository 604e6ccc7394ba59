"""Mintlify docs, JWT authentication.

Follows https://mintlify.com/docs/settings/authentication-personalization/authentication-setup/jwt.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import Fragment
from ..service import Destination, ExtraClaims, ReturnRules, Service, TokenRules
from ._common import fields, https_site, only_algorithm


def mintlify(
    *,
    key: KeyInput,
    docs: str,
    session: int = 14 * 86400,
    name: str = "mintlify",
    ttl: int = 60,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Mintlify JWT authentication: EdDSA, the token in the fragment of
    ``{docs}/login/jwt-callback?redirect=<path>#<token>``.

    Follows "JWT" authentication setup
    (https://mintlify.com/docs/settings/authentication-personalization/authentication-setup/jwt):
    sign with the private key from the dashboard (EdDSA), send the browser to the docs'
    ``/login/jwt-callback`` with the token as the URL's hash, and pass on Mintlify's relative
    ``redirect``. ``expiresAt`` is when the docs session ends (``session`` seconds); the token
    itself is short-lived (Mintlify's example: seconds).

    =========  =========  ==============================================
    claim      required   from
    =========  =========  ==============================================
    expiresAt  yes        now + ``session``
    sub        no         ``Principal.id`` as a string (names the reader)
    groups     no         ``extra_claims`` (page access groups)
    content    no         ``extra_claims`` (personalisation)
    =========  =========  ==============================================

    >>> from sso_middleware.keys import Key
    >>> mintlify(key=Key.generate("EdDSA"), docs="https://docs.acme.com").destination.target
    'https://docs.acme.com/login/jwt-callback'
    """
    base = https_site(docs, name, "docs must be your docs' https URL, e.g. 'https://docs.acme.com'")
    rules = TokenRules(claims=fields([("sub", "id")], text=["sub"]), required=("expiresAt",),
                       identity=("sub",), algorithm="EdDSA", ttl=ttl, extra=extra_claims,
                       session=("expiresAt", session))
    return only_algorithm(Service(name=name, key=key, token=rules,
                                  destination=Destination(f"{base}/login/jwt-callback", Fragment()),
                                  returns=ReturnRules("redirect", forward_as="redirect", relative=True)),
                          "Mintlify")


__all__ = ["mintlify"]
