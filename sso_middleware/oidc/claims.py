"""The user's claims a client receives: by scope, from the :class:`~sso_middleware.Principal`.

Which claim each scope releases is OpenID Connect Core 5.4, as Authlib's
:class:`authlib.oidc.core.UserInfo` filters them (``profile``: ``name``, ``given_name``,
``family_name``, ``preferred_username``, ``picture``, ...; ``email``: ``email``,
``email_verified``); ``groups`` (not in the standard, what Grafana, Outline and most
self-hosted tools read roles from) adds the principal's ``groups`` list.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from authlib.oidc.core import UserInfo

from ..errors import ConfigurationError
from ..principal import Principal
from ..tokens import json_value
from .clients import Client

PROFILE = ("given_name", "family_name", "preferred_username", "picture")
"""Profile claims read from the principal's attributes under the same names."""
CLAIMS = ("sub", "email", "email_verified", "name", *PROFILE, "groups")
"""Every claim the provider releases by scope (advertised as ``claims_supported``)."""
MAX_CLAIMS_BYTES = 4096


def subject(principal: Principal) -> str:
    """The ``sub`` claim: the principal's id as a string (stable as long as the id is)."""
    return str(principal.id)


def _groups(principal: Principal) -> list[str] | None:
    groups = principal.attributes.get("groups")
    if isinstance(groups, (list, tuple, set, frozenset)) and all(isinstance(g, str) for g in groups):
        return sorted(groups) if isinstance(groups, (set, frozenset)) else list(groups)
    return None


def user_claims(principal: Principal, client: Client, scopes: Collection[str], *,
                verified_emails: bool) -> dict[str, Any]:
    """``sub`` and the claims ``scopes`` release, then ``client``'s extra claims. A claim the
    principal does not have is left out (never ``null``); ``email_verified`` is the principal's
    own attribute, else ``verified_emails`` when the app vouches for every address.

    >>> from sso_middleware.oidc import Client
    >>> client = Client("wiki", secret="wiki-client-secret-0123456789", redirect_uris=["https://wiki.acme.com/cb"])
    >>> ada = Principal(7, "ada@acme.com", "Ada", {"groups": ["admins"]})
    >>> user_claims(ada, client, ["openid", "email", "groups"], verified_emails=True)
    {'sub': '7', 'email': 'ada@acme.com', 'email_verified': True, 'groups': ['admins']}
    """
    attributes = principal.attributes
    verified = attributes.get("email_verified", verified_emails if principal.email else None)
    standard = {"email": principal.email, "email_verified": verified, "name": principal.name}
    standard.update((name, attributes.get(name)) for name in PROFILE)
    info = UserInfo({k: v for k, v in standard.items() if v is not None and v != ""})
    claims: dict[str, Any] = {"sub": subject(principal), **info.filter(" ".join(scopes))}
    groups = _groups(principal)
    if "groups" in scopes and groups is not None:
        claims["groups"] = groups
    claims.update(client.extras(principal))
    try:
        size = len(json.dumps(claims, default=json_value, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ConfigurationError(f"the claims for {client!r} are not JSON ({e}): the extractor's "
                                 "attributes and extra_claims must be strings, numbers, lists.") from e
    if size > MAX_CLAIMS_BYTES:
        raise ConfigurationError(f"the claims for {client!r} take {size} bytes; keep them under "
                                 f"{MAX_CLAIMS_BYTES} (they travel inside the code and the tokens).")
    return claims


__all__ = ["CLAIMS", "PROFILE", "subject", "user_claims"]
