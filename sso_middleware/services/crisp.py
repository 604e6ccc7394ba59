"""Crisp user verification (a user hash).

Follows https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification and Crisp's own
plugins (crisp-im/crisp-plugin-wordpress, crisp-im/crisp-plugin-whmcs), which compute the hash.
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
    your support" (Crisp Mini plan and up); "your backend signs John's email with a private key
    that both Crisp and your backend know". The computation is Crisp's own code: its WordPress
    and WHMCS plugins sign ``hash_hmac("sha256", $email, $website_verify)`` (PHP: lower-case
    hex) and push ``["set", "user:email", [email, hmac]]`` (crisp-im/crisp-plugin-wordpress
    ``crisp.php``, crisp-im/crisp-plugin-whmcs ``src/hooks.php``); its Web SDK's
    ``setEmail(email, hmac)`` and its React Native SDK's "HMAC-SHA256 signature for email
    verification" take the same second argument (crisp-im/crisp-sdk-web ``src/user.ts``,
    crisp-im/crisp-sdk-react-native ``src/index.ts``).
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an email is refused.

    =========  =========  ======================================
    field      required   from
    =========  =========  ======================================
    email      yes        ``Principal.email`` (the hashed field)
    nickname   no         ``Principal.name``
    signature  yes        HMAC-SHA256 of ``email``, hex
    =========  =========  ======================================

    >>> crisp(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('signature', of='email')
    """
    return user_hash(
        name=name, key=key, hashed=("email", "email"), hash_as="signature",
        also=[("nickname", "name")], extra_claims=extra_claims,
    )


__all__ = ["crisp"]
