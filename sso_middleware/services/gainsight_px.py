"""Gainsight PX identity HMAC verification (a user hash).

Follows https://support.gainsight.com/PX/Security/Identity_HMAC_Verification_(SHA256).
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def gainsight_px(
    *,
    key: KeyInput,
    name: str = "gainsight_px",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Gainsight PX: the page fetches ``/sso/gainsight_px/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``aptrinsic("identify", {id, email, userHash}, {id: account})``.

    Follows "Identity HMAC Verification (SHA256)"
    (https://support.gainsight.com/PX/Security/Identity_HMAC_Verification_(SHA256)): "a
    server-side generated HMAC ... using SHA256, on either your user's email or user_id", passed
    as ``userHash`` in the ``identify`` call's user fields; once enabled "Gainsight PX does not
    accept any requests for a logged-in user without a valid HMAC". This preset hashes ``id``
    (the choice is made in PX's settings). The page shows no code that computes the hash, so
    its encoding (hex here, as every other widget of this family) is UNCONFIRMED. Account
    fields are the page's to add.
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an id is refused.

    ========  =========  =================================================
    field     required   from
    ========  =========  =================================================
    id        yes        ``Principal.id`` as a string (the hashed field)
    email     no         ``Principal.email``
    userHash  yes        HMAC-SHA256 of ``id``, hex (encoding UNCONFIRMED)
    ========  =========  =================================================

    >>> gainsight_px(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('userHash', of='id')
    """
    return user_hash(
        name=name, key=key, hashed=("id", "id"), hash_as="userHash",
        also=[("email", "email")], extra_claims=extra_claims,
    )


__all__ = ["gainsight_px"]
