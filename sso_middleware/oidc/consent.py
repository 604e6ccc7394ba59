"""The consent page of a client marked ``trusted=False``: one question, asked every time.

The page names the client and what it will receive, and its form POSTs the authorization
request back to the authorization endpoint with the user's answer (``decision=allow`` or
``deny``) and a mark (:mod:`.marks`) bound to this request, this user and this client, made
when the page was drawn and good for ten minutes. A POST counts only when it comes from this
site's own pages (``Sec-Fetch-Site``, else ``Origin``/``Referer``) and its mark verifies; a
stale or forged mark draws the page again. ``deny`` sends ``error=access_denied`` to the
client's registered URI. Nothing is stored: the next authorization asks again.

The page is the confirm page of emailed links (:class:`~sso_middleware.pages.ConfirmView`,
your own through ``OpenIDProvider(consent_page=...)``): escaped, never cached, no referrer,
forms only to this origin and the client's (where the answer redirects).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError

from ..messages import Reply, Request, own_path
from ..pages import ConfirmView, confirm_reply
from ..principal import Principal
from .claims import subject
from .clients import Client
from .endpoint import form_returned, shown_name
from .marks import CONSENT, DECISION, LOGIN, bound, every

if TYPE_CHECKING:
    from .endpoint import Context

CONSENT_TTL = 600
"""Seconds the consent page's form stays good."""
WHAT = {"email": "email address", "profile": "name and profile", "groups": "groups"}
"""What each scope releases, in the page's words."""


def sentence(client: Client, scopes: Collection[str]) -> str:
    """The page's sentence: who asks, and for what (not escaped).

    >>> c = Client("wiki", secret="wiki-client-secret-0123456789", redirect_uris=["https://w.acme.com/cb"])
    >>> sentence(c, ["openid", "email", "groups"])
    'wiki asks to sign you in. It will receive your user id, email address and groups.'
    """
    words = ["user id", *(WHAT[s] for s in ("email", "profile", "groups") if s in scopes)]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{client.client_id} asks to sign you in. It will receive your {listed}."


def origin(uri: str) -> str | None:
    """``uri``'s origin for a content security policy (``None`` if it could not be written there)."""
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return None if any(c in origin for c in " ;,'\"") else origin


def consent(context: Context, client: Client, principal: Principal, scopes: Collection[str], silent: bool,
            params: Mapping[str, str], request: Request) -> Reply | None:
    """``None`` when the user allowed this request just now; else the page to answer (the
    question, or a cross-site refusal). Raises ``consent_required`` (``prompt=none``) or
    ``access_denied`` (the user said no)."""
    if silent:
        raise ConsentRequiredError()
    binding = bound(params, subject(principal), client.client_id)
    answered = form_returned(context, request, params, CONSENT, purpose="consent", binding=binding,
                             ttl=CONSENT_TTL, endpoint="authorize", client=client)
    if isinstance(answered, Reply):
        return answered
    if answered and params.get(DECISION) == "deny":
        raise AccessDeniedError("The user declined.")
    if answered and params.get(DECISION) == "allow":
        return None
    mark = context.marks.make("consent", "c", binding, context.clock())
    view = ConfirmView(
        shown_name(principal),
        own_path(request),
        (*every(params.items()), *[(k, v) for k, v in params.items() if k == LOGIN], (CONSENT, mark)),
        title=f"Sign in to {client.client_id}",
        message=sentence(client, scopes),
        deny="Cancel",
    )
    return confirm_reply(view, context.consent_page, then=origin(params["redirect_uri"]))


__all__ = ["CONSENT_TTL", "consent", "origin", "sentence"]
