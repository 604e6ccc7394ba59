"""Gleap identity verification (a user hash).

Follows https://docs.gleap.io/documentation/guides/enforce-identity-verification.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def gleap(
    *,
    key: KeyInput,
    name: str = "gleap",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Gleap: the page fetches ``/sso/gleap/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``Gleap.identify(userId, {name, email}, userHash)``.

    Follows "Enforce identity verification"
    (https://docs.gleap.io/documentation/guides/enforce-identity-verification):
    ``crypto.createHmac('sha256', 'YOUR-SECRET').update(String(user.id)).digest('hex')``
    ("Gleap handles the userId as STRING, please make sure to convert the user ID to a string,
    before generating the hash"), passed as the third argument of
    ``Gleap.identify("user_19283", {name, email}, "GENERATED_USER_HASH")``.
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an id is refused.

    ===========  =========  ===============================================
    field        required   from
    ===========  =========  ===============================================
    userId       yes        ``Principal.id`` as a string (the hashed field)
    email, name  no         ``Principal.email``, ``Principal.name``
    userHash     yes        HMAC-SHA256 of ``userId``, hex
    ===========  =========  ===============================================

    >>> gleap(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('userHash', of='userId')
    """
    return user_hash(
        name=name, key=key, hashed=("userId", "id"), hash_as="userHash",
        also=[("email", "email"), ("name", "name")], extra_claims=extra_claims,
    )


__all__ = ["gleap"]
