"""Chatwoot identity validation (a user hash).

Follows https://www.chatwoot.com/docs/product/channels/live-chat/sdk/identity-validation and the
check Chatwoot's own server makes (chatwoot/chatwoot, app/controllers/api/v1/widget/).
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def chatwoot(
    *,
    key: KeyInput,
    name: str = "chatwoot",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Chatwoot: the page fetches ``/sso/chatwoot/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``$chatwoot.setUser(identifier, {email, name, identifier_hash})``.

    Follows Chatwoot's identity validation as its own server checks it: the widget's contact
    update compares ``identifier_hash`` with ``OpenSSL::HMAC.hexdigest('sha256',
    @web_widget.hmac_token, params[:identifier].to_s)`` (chatwoot/chatwoot
    ``app/controllers/api/v1/widget/contacts_controller.rb``): the lower-case hex HMAC-SHA256
    of the ``identifier`` given to ``window.$chatwoot.setUser``, keyed with the inbox's HMAC
    token; its page "Identity validation in Chatwoot"
    (https://www.chatwoot.com/docs/product/channels/live-chat/sdk/identity-validation) shows the
    same, ``hash_hmac('sha256', $message, $key)`` of the identifier with the inbox's token (its
    older Python sample swapped key and message; the current one does not). With "Enforce User
    Identity Validation" on, ``setUser`` without it is refused (chatwoot/chatwoot #9493, a
    maintainer's answer).
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an id is refused.

    ===============  =========  ===============================================
    field            required   from
    ===============  =========  ===============================================
    identifier       yes        ``Principal.id`` as a string (the hashed field)
    email, name      no         ``Principal.email``, ``Principal.name``
    identifier_hash  yes        HMAC-SHA256 of ``identifier``, hex
    ===============  =========  ===============================================

    >>> chatwoot(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('identifier_hash', of='identifier')
    """
    return user_hash(
        name=name, key=key, hashed=("identifier", "id"), hash_as="identifier_hash",
        also=[("email", "email"), ("name", "name")], extra_claims=extra_claims,
    )


__all__ = ["chatwoot"]
