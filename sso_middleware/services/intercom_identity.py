"""Intercom identity verification, the older user hash.

Follows https://developers.intercom.com/installing-intercom/web/identity-verification and
Intercom's own samples (intercom/identity-verification-code-samples).
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def intercom_identity(
    *,
    key: KeyInput,
    name: str = "intercom_identity",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Intercom's user hash: the page fetches ``/sso/intercom_identity/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``Intercom('boot', {app_id, user_id, email, name, user_hash})``.

    Intercom's identity verification (``user_hash``), which Intercom's "Secure your Messenger"
    page now offers beside JWTs (:func:`~sso_middleware.services.intercom`): hashes are
    generated "using the Identity Verification secret from your workspace settings and one of
    their identifiers (user_id or email)"
    (https://www.intercom.com/help/en/articles/7946881-troubleshooting-identity-verification).
    Intercom's own samples compute HMAC-SHA256 in hex and say "When creating this for mobile,
    the final output needs to be in lowercase" (intercom/identity-verification-code-samples,
    whose example ``secret``/``Message`` is a test vector in ``tests/data/vendor_vectors.json``).
    This preset hashes ``user_id``; for email build a custom ``UserHash``.
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an id is refused.

    ===========  =========  ===============================================
    field        required   from
    ===========  =========  ===============================================
    user_id      yes        ``Principal.id`` as a string (the hashed field)
    email, name  no         ``Principal.email``, ``Principal.name``
    user_hash    yes        HMAC-SHA256 of ``user_id``, hex
    ===========  =========  ===============================================

    >>> intercom_identity(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('user_hash', of='user_id')
    """
    return user_hash(
        name=name, key=key, hashed=("user_id", "id"), hash_as="user_hash",
        also=[("email", "email"), ("name", "name")], extra_claims=extra_claims,
    )


__all__ = ["intercom_identity"]
