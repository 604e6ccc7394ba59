"""Zendesk messaging (the Web Widget and mobile SDKs' own sign-in: a fetched token).

Follows https://support.zendesk.com/hc/en-us/articles/4411666638746.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from ..keys import Key
from ..principal import Principal
from ..service import ExtraClaims, Service, need, optional
from ._common import make_service, page_fetches


def _messaging_user(user: Principal) -> dict[str, object]:
    found: dict[str, object] = {"scope": "user", "external_id": str(need(user, "id"))}
    for claim in ("name", "email"):
        value = optional(user, claim)
        if value is not None:
            found[claim] = value
    return found


def zendesk_messaging(
    *,
    key: str,
    key_id: str,
    name: str = "zendesk_messaging",
    ttl: int = 600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Zendesk messaging: the page fetches ``/sso/zendesk_messaging/token`` and hands it to the
    widget's login call (``zE('messenger', 'loginUser', callback => callback(token))``).

    Follows "Authenticating end users in messaging for the Web Widget and mobile SDK"
    (https://support.zendesk.com/hc/en-us/articles/4411666638746): an admin creates a signing
    key in Admin Center (a key id and its shared secret); the JWT names the key id as ``kid``
    in its header; the external id is the primary identification ("even when an email address
    is included"), ``name`` and ``email`` are optional. Zendesk's Sunshine Conversations
    "API authentication" page (https://developer.zendesk.com/documentation/conversations/getting-started/api-authentication)
    says a JWT carries "a scope claim ... which matches the scope of the API key being used";
    the value ``"user"`` for an end user's token and HS256 appear in many integrations' code,
    not in any vendor text read for this preset (Zendesk's developer page "Enabling
    authenticated visitors" could be read only up to its signing-key section): both stay
    UNCONFIRMED.
    This is not Help Center SSO (:func:`~sso_middleware.services.zendesk`): another key,
    another token.

    ===========  =========  ===========================================================
    claim        required   from
    ===========  =========  ===========================================================
    (header)     yes        ``kid`` = ``key_id``, ``alg`` HS256
    scope        yes        ``"user"`` (UNCONFIRMED in the retrieved vendor text)
    external_id  yes        ``Principal.id`` as a string
    name, email  no         ``Principal.name``, ``Principal.email``
    iat, exp     yes        stamped (``ttl``, default 10 minutes), with ``jti``
    (any)        no         ``extra_claims`` (e.g. ``email_verified``)
    ===========  =========  ===========================================================

    >>> svc = zendesk_messaging(key="a-secret-of-at-least-thirty-two-bytes!", key_id="app_64a1")
    >>> svc.keys.signing.kid, svc.fetched
    ('app_64a1', True)
    """
    if not isinstance(key_id, str) or not key_id.strip():
        raise ConfigurationError(f"service {name!r}: key_id is the signing key's id from Admin Center.")
    return make_service(
        name=name, key=Key(key, kid=key_id, field=f"service {name!r}: key"), ttl=ttl,
        extra_claims=extra_claims,
        claims=_messaging_user, required=("external_id", "scope"), identity=("external_id",),
        destination=page_fetches(),
    )


__all__ = ["zendesk_messaging"]
