"""Novu HMAC encryption for the inbox and web chat (a subscriber hash).

Follows https://docs.novu.co/agents/channels/web-chat/security.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def novu(
    *,
    key: KeyInput,
    name: str = "novu",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Novu: the page fetches ``/sso/novu/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``<Inbox subscriberId={...} subscriberHash={...} />``.

    Follows Novu's HMAC security (https://docs.novu.co/agents/channels/web-chat/security):
    "The hash is HMAC-SHA256(secretKey, subscriberId) as a lowercase hex string", with "the
    environment API secret from API Keys. Compute them on your server"; passed as
    ``subscriberHash``. The key is Novu's secret API key: keep it server-side. (Web Chat's
    second hash, ``agentHash`` of the agent identifier, is not the user's: build it yourself.)
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an id is refused.

    ==============  =========  ===============================================
    field           required   from
    ==============  =========  ===============================================
    subscriberId    yes        ``Principal.id`` as a string (the hashed field)
    subscriberHash  yes        HMAC-SHA256 of ``subscriberId``, hex
    ==============  =========  ===============================================

    >>> novu(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('subscriberHash', of='subscriberId')
    """
    return user_hash(
        name=name, key=key, hashed=("subscriberId", "id"), hash_as="subscriberHash",
        extra_claims=extra_claims,
    )


__all__ = ["novu"]
