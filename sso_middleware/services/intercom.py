"""Intercom Messenger security (a fetched token).

Follows https://developers.intercom.com/installing-intercom/web/identity-verification.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..placements import TokenEndpoint
from ..service import Destination, ExtraClaims, Service
from ._common import fields, make_service


def intercom(
    *,
    key: KeyInput,
    name: str = "intercom",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Intercom Messenger security: the page fetches ``/sso/intercom/token`` and boots the
    Messenger with it (``intercom_user_jwt``).

    Follows "Secure your Messenger" (https://developers.intercom.com/installing-intercom/web/identity-verification)
    and "Authenticating users in the Messenger with JWTs" (intercom.com/help, article 10589769):
    HS256 with the Messenger API secret; ``user_id`` is required, other signed user fields are
    optional; the expiry should match your own session's. Render the page's side with
    :func:`sso_middleware.snippets.token_script`.

    =======  =========  ==========================================
    claim    required   from
    =======  =========  ==========================================
    user_id  yes        ``Principal.id`` as a string
    email    no         ``Principal.email``
    name     no         ``Principal.name``
    (any)    no         ``extra_claims`` (other signed user fields)
    =======  =========  ==========================================

    >>> intercom(key="a-secret-of-at-least-thirty-two-bytes!").fetched
    True
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("user_id", "id")], [("email", "email"), ("name", "name")], text=["user_id"]),
        required=("user_id",), identity=("user_id",),
        destination=Destination(placement=TokenEndpoint(), path="/"),
    )


__all__ = ["intercom"]
