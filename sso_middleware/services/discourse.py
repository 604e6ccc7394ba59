"""Discourse forums (DiscourseConnect, not a JWT).

Follows https://meta.discourse.org/t/13045 and https://meta.discourse.org/t/32974.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..keys import KeyInput
from ..placements import SignedPayload
from ..principal import Principal
from ..service import Destination, ExtraClaims, ReturnRules, Service, need, optional
from ._common import https_site, make_service, vendor_hosts


def _discourse_claims(user: Principal) -> dict[str, Any]:
    """Discourse's fields: ``require_activation`` unless the app vouches for the email."""
    found: dict[str, Any] = {"email": need(user, "email"), "external_id": str(need(user, "id"))}
    for field_name in ("username", "name"):
        value = optional(user, field_name)
        if value is not None:
            found[field_name] = value
    if user.attributes.get("email_verified") is not True:
        found["require_activation"] = True
    return found


def discourse(
    *,
    secret: KeyInput,
    url: str,
    provider: str | None = None,
    hosts: Iterable[str] = (),
    name: str = "discourse",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Discourse Connect, both directions: your app signs users in to the forum at ``url``, or
    (as a receiver) signs users in *with* a provider.

    Follows "Setup DiscourseConnect" (https://meta.discourse.org/t/13045) and "Use Discourse as
    an identity provider" (https://meta.discourse.org/t/32974). Not a JWT: Discourse sends
    ``/sso/discourse?sso=<Base64 payload>&sig=<hex HMAC-SHA256>`` with a ``nonce`` and a
    ``return_sso_url``; the signature is checked in constant time (a bad or missing one is a
    4xx and nothing is signed), ``return_sso_url`` must be on the forum's host (plus
    ``hosts``), and the answer goes back there, signed the same way, with the same nonce.

    ==================  =========  ==================================================
    field               required   from
    ==================  =========  ==================================================
    nonce               yes        Discourse's request, copied back
    email               yes        ``Principal.email`` (Discourse maps users by it)
    external_id         yes        ``Principal.id`` as a string
    username, name      no         ``Principal.attributes["username"]``, ``.name``
    require_activation  no         ``true`` unless ``attributes["email_verified"]`` is True
    groups, add_groups, no         ``extra_claims`` (lists are comma-joined, booleans
    admin, moderator,              ``true``/``false``)
    avatar_url, bio, …
    ==================  =========  ==================================================

    As a receiver (``VerifierMiddleware(app, service=discourse(...))``) it plays Discourse: a
    visit to ``/session/sso`` (where Discourse itself starts, optionally with
    ``?return_path=/top``, the page to land on: "Create an SSO login link",
    https://meta.discourse.org/t/109290) or to ``/session/sso_login`` without an answer (the
    stand-in's older start, with ``?next=``) starts the round trip at ``provider`` (default
    ``{url}/session/sso_provider``, Discourse as the identity provider; your app's
    ``/sso/discourse`` for a stand-in forum) with a nonce bound to the browser and good for
    10 minutes, and accepts the answer once, at ``/session/sso_login`` only.

    >>> svc = discourse(secret="d836444a9e4084d5b224a60c208dce14", url="https://forum.acme.com")
    >>> svc.destination.listen, svc.destination.placement.provider, svc.destination.placement.entry
    ('/session/sso_login', 'https://forum.acme.com/session/sso_provider', '/session/sso')
    """
    forum = https_site(url, name, "url must be your forum's https URL, e.g. 'https://forum.acme.com'")
    host = urlsplit(forum).netloc
    return make_service(
        name=name, key=secret, ttl=300, extra_claims=extra_claims, claims=_discourse_claims,
        required=("external_id", "email"), identity=("external_id",), min_key_length=10,
        destination=Destination(path="/session/sso_login",
                                placement=SignedPayload(provider or f"{forum}/session/sso_provider",
                                                        entry="/session/sso")),
        returns=ReturnRules(hosts=vendor_hosts(name, [host], hosts)),
    )


__all__ = ["discourse"]
