"""Gleap identity verification (a user hash).

Follows https://docs.gleap.io/javascript/user-identity-verification.
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

    Gleap's identity verification: ``userHash`` is the HMAC-SHA256 (hex) of ``String(userId)``
    with the project's secret, the third argument of ``Gleap.identify``. From the project's
    research notes; the vendor page was not re-read for this preset (UNCONFIRMED).
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
