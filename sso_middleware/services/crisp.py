"""Crisp user verification (a user hash).

Follows https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def crisp(
    *,
    key: KeyInput,
    name: str = "crisp",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Crisp: the page fetches ``/sso/crisp/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``$crisp.push(["set", "user:email", [email, signature]])``.

    Follows "Identity Verification" (https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification):
    "User Verification lets you verify the authenticity of the emails of people chatting with
    your support" (Crisp Mini plan and up). The computation itself (HMAC-SHA256 of the email
    with the website's verification secret, hex, passed as the second item of ``user:email``)
    is below the text retrieved for this preset (UNCONFIRMED).
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an email is refused.

    =========  =========  ===========================================
    field      required   from
    =========  =========  ===========================================
    email      yes        ``Principal.email`` (the hashed field)
    nickname   no         ``Principal.name``
    signature  yes        HMAC-SHA256 of ``email``, hex (UNCONFIRMED)
    =========  =========  ===========================================

    >>> crisp(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('signature', of='email')
    """
    return user_hash(
        name=name, key=key, hashed=("email", "email"), hash_as="signature",
        also=[("nickname", "name")], extra_claims=extra_claims,
    )


__all__ = ["crisp"]
