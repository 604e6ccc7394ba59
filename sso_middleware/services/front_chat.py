"""Front Chat identity verification (a user hash).

Follows https://dev.frontapp.com/docs/identify-users.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def front_chat(
    *,
    key: KeyInput,
    name: str = "front_chat",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Front Chat: the page fetches ``/sso/front_chat/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``FrontChat('init', {chatId, email, name, userHash})``.

    Follows "Identify users" (https://dev.frontapp.com/docs/identify-users): "Front Chat uses a
    server-side generated HMAC ... with SHA-256. The identity verification will fail unless a
    user hash is provided", computed from the email with the chat's verification secret
    (``crypto.createHmac('sha256', verificationSecret).update(userEmail).digest('hex')``; the
    page's Python: ``hmac.new(verification_secret, msg=user_email.encode('utf8'),
    digestmod=hashlib.sha256).hexdigest()``), passed as ``userHash`` to ``FrontChat('init', ...)``.
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an email is refused.

    ========  =========  ======================================
    field     required   from
    ========  =========  ======================================
    email     yes        ``Principal.email`` (the hashed field)
    name      no         ``Principal.name``
    userHash  yes        HMAC-SHA256 of ``email``, hex
    ========  =========  ======================================

    >>> front_chat(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('userHash', of='email')
    """
    return user_hash(
        name=name, key=key, hashed=("email", "email"), hash_as="userHash",
        also=[("name", "name")], extra_claims=extra_claims,
    )


__all__ = ["front_chat"]
