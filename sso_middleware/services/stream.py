"""Stream Chat and Video user tokens (a fetched token).

Follows https://getstream.io/chat/docs/token_generator.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import fields, make_service, page_fetches


def stream(
    *,
    key: KeyInput,
    name: str = "stream",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Stream: the page fetches ``/sso/stream/token`` for ``client.connectUser(user, token)``.

    Follows "Tokens & Authentication" (https://getstream.io/chat/docs/token_generator): the
    device asks your server for a token; a client-side token "must include the userID claim";
    the server SDKs sign ``{"user_id": ...}`` with HS256 and the app's API secret
    (``JWT.encode({ user_id: 'john' }, 'STREAM_SECRET', 'HS256')`` in Stream's Ruby snippet).
    Stream's SDKs add ``exp`` and ``iat`` only when asked, so Stream takes tokens that never
    expire (the stand-in does too, unless ``strict=True``); this preset always stamps them.
    Whether Stream ignores the ``jti`` it also stamps is UNCONFIRMED.

    ========  =========  =================================================
    claim     required   from
    ========  =========  =================================================
    user_id   yes        ``Principal.id`` as a string
    iat, exp  no         stamped (``ttl``, default an hour), with ``jti``
    (any)     no         ``extra_claims``
    ========  =========  =================================================

    >>> stream(key="a-secret-of-at-least-thirty-two-bytes!").token.identity
    ('user_id',)
    """
    return make_service(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=fields([("user_id", "id")], text=["user_id"]), required=("user_id",), identity=("user_id",),
        destination=page_fetches(), expiry_optional=True,
    )


__all__ = ["stream"]
