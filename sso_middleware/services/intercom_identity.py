"""Intercom identity verification, the older user hash.

Follows https://developers.intercom.com/installing-intercom/web/identity-verification.
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

    Intercom's legacy identity verification (``user_hash``: HMAC-SHA256, hex, of ``user_id``
    with the Messenger's identity verification secret), which Intercom's "Secure your
    Messenger" page now replaces with JWTs (:func:`~sso_middleware.services.intercom`). The
    ``user_hash`` text was not re-read for this preset (UNCONFIRMED here; Intercom hashes the
    email when there is no ``user_id``: build a custom ``UserHash`` for that).
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
