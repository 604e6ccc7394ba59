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

    Novu's HMAC security (https://docs.novu.co/agents/channels/web-chat/security, as the
    project's research notes cite it): ``subscriberHash`` is the HMAC-SHA256 (hex) of the
    ``subscriberId`` with the environment's secret (API) key. The page was not re-read for this
    preset (UNCONFIRMED). The key is Novu's secret API key: keep it server-side.
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
