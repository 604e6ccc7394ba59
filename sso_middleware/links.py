"""Sign-in links minted for email: "Sign in", "View your invoice", "Accept the invitation".

:func:`sign_in_link` makes the URL an app puts in an email: a token for one user, one-time,
valid for a bounded while (15 minutes unless told), naming the page to land on, and optionally
bound to a purpose, so that a "view invoice" link is refused by the verifier that signs people
in as admins. The receiving side is the generic :class:`~sso_middleware.wsgi.VerifierMiddleware`
with ``confirm=True``, so that mail scanners opening the link first do not burn it.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError
from .keys import Key, KeyInput, KeySet
from .principal import Principal
from .redirects import host_key, safe_relative_path, with_params
from .tokens import sign

DEFAULT_LIFETIME = 15 * 60
"""How long a link is good by default: longer than a redirect's token (mail takes a while)."""
MIN_LIFETIME = 60
MAX_LIFETIME = 24 * 3600
"""The verifier's default ``max_lifetime`` (a day): a longer link would be refused anyway."""
_RESERVED = frozenset({"iat", "exp", "nbf", "jti", "aud"})


def sign_in_link(
    url: str,
    user: Principal | Mapping[str, Any] | object,
    *,
    key: KeyInput,
    lifetime: float = DEFAULT_LIFETIME,
    next: str | None = None,
    audience: str | None = None,
    typ: str | None = None,
    claims: Mapping[str, Any] | None = None,
    param: str = "token",
    now: float | None = None,
) -> str:
    """The URL of a one-time sign-in link for ``user``, to put in an email.

    The token carries the user (``sub`` = their id, ``email``, ``name`` when known, and
    ``claims``), ``iat`` = now, ``exp`` = now + ``lifetime`` (1 minute to 24 hours), and a
    ``jti`` of 128 random bits, so the verifier accepts it once. ``next`` must be a same-site
    path (``/invoices/7``; never ``//evil.com`` or an absolute URL): the verifier lands there.
    With ``audience`` (``aud``) and/or ``typ`` the link serves one purpose: a verifier
    configured with that audience/typ refuses links minted for another, and one configured
    without an audience refuses every link that carries one. The link is a bearer credential
    until it is used or expires: send it to the user's own address only, and never log it.

    :param url: the verifier's login URL (``https://app.acme.com/sso``; http on loopback only).
    :param user: a :class:`~sso_middleware.Principal`, a mapping or an object with ``id``,
        ``email`` and ``name``.
    :param key: the verifier's key (the same ``key=`` it is built with; the newest of a list).
    :param lifetime: seconds the link is good for (default 900).
    :param next: the same-site path to land on after sign-in.
    :param audience: the purpose the link is for (the token's ``aud``).
    :param typ: the token's ``typ`` header (default ``JWT``).
    :param claims: more claims (not ``iat``, ``exp``, ``nbf``, ``jti``, ``aud``).
    :param param: the link's query parameter (the verifier's placement's).
    :param now: the time to mint at (default: now).

    >>> link = sign_in_link("https://app.acme.com/sso", {"id": 7, "email": "ada@example.com"},
    ...                     key="a-secret-of-at-least-thirty-two-bytes!", next="/invoices/7")
    >>> link.startswith("https://app.acme.com/sso?next=%2Finvoices%2F7&token=ey")
    True
    """
    if host_key(url) is None or "#" in url:
        raise ConfigurationError(
            f"url {url[:100]!r}: give the verifier's absolute login URL, https "
            "(http for localhost only), without a fragment, e.g. 'https://app.acme.com/sso'."
        )
    if next is not None and safe_relative_path(next) is None:
        raise ConfigurationError(f"next {next[:100]!r}: use a same-site path such as '/invoices/7'.")
    body = _claims(user, claims, audience)
    when = time.time() if now is None else now
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or not (
            MIN_LIFETIME <= lifetime <= MAX_LIFETIME):
        raise ConfigurationError(f"lifetime: {MIN_LIFETIME} to {MAX_LIFETIME} seconds (default 900).")
    if not math.isfinite(when):
        raise ConfigurationError("now: a finite time in seconds.")
    body.update(iat=int(when), exp=int(when + lifetime), jti=secrets.token_urlsafe(16))
    signing = key if isinstance(key, Key) else KeySet.build(key, algorithm=None, field="key").signing
    token = sign(body, signing, typ=typ or "JWT")
    params = [("next", next)] if next is not None else []
    return with_params(url, [*params, (param, token)])


def _claims(user: object, claims: Mapping[str, Any] | None, audience: str | None) -> dict[str, Any]:
    """The user's claims, the app's extra ones, and the purpose."""
    principal = Principal.coerce(user)
    if principal is None:
        raise ConfigurationError("user: a sign-in link needs a user with an id.")
    body: dict[str, Any] = {"sub": str(principal.id)}
    for name in ("email", "name"):
        if getattr(principal, name):
            body[name] = getattr(principal, name)
    extra = dict(claims or {})
    if _RESERVED & extra.keys():
        raise ConfigurationError(f"claims: {sorted(_RESERVED & extra.keys())} are set for you.")
    body.update(extra)
    if audience is not None:
        if not isinstance(audience, str) or not audience:
            raise ConfigurationError("audience: a non-empty string naming the link's purpose.")
        body["aud"] = audience
    return body


__all__ = ["DEFAULT_LIFETIME", "MAX_LIFETIME", "MIN_LIFETIME", "sign_in_link"]
