"""Pylon chat widget identity verification (a user hash, hex-encoded secret).

Follows https://docs.usepylon.com/pylon-docs/chat-widget/identity-verification.
"""

from __future__ import annotations

import re

from ..errors import ConfigurationError
from ..service import ExtraClaims, Service
from ._common import user_hash

_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){16,}")


def pylon(
    *,
    key: str,
    name: str = "pylon",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Pylon: the page fetches ``/sso/pylon/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for ``window.pylon.chat_settings``
    (``email``, ``name``, ``email_hash``).

    Follows "Identity Verification" (https://docs.usepylon.com/pylon-docs/chat-widget/identity-verification):
    "hash the user's email address using HMAC-SHA256 with the secret you just generated. Note
    that the secret is a hex string and must be decoded to text before use"
    (``createHmac("sha256", Buffer.from(secret, "hex")).update(email).digest("hex")``), then
    ``window.pylon.chat_settings.email_hash = HMAC_HASH``. ``key`` is that hex string, as Pylon
    shows it; it is decoded here. What a hash does not give: it never expires and is the same
    on every page and every day, so it proves who the user is, not that their session is
    fresh (rotate the secret to revoke every hash). A user without an email is refused
    (``missing_claim``).

    ==========  =========  ======================================
    field       required   from
    ==========  =========  ======================================
    email       yes        ``Principal.email`` (the hashed field)
    name        no         ``Principal.name``
    email_hash  yes        HMAC-SHA256 of ``email``, hex
    ==========  =========  ======================================

    >>> pylon(key="ab" * 32).destination.placement
    UserHash('email_hash', of='email')
    """
    if not isinstance(key, str) or not _HEX.fullmatch(key):
        raise ConfigurationError(f"service {name!r}: key is the identity secret Pylon shows, a hex string "
                                 "(at least 32 hex digits).")
    return user_hash(name=name, key=bytes.fromhex(key), hashed=("email", "email"), hash_as="email_hash",
                     also=[("name", "name")], extra_claims=extra_claims)


__all__ = ["pylon"]
