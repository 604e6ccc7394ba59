"""Help Scout Beacon secure mode (a user hash).

Follows https://developer.helpscout.com/beacon-2/web/secure-mode/.
"""

from __future__ import annotations

from ..keys import KeyInput
from ..service import ExtraClaims, Service
from ._common import user_hash


def helpscout_beacon(
    *,
    key: KeyInput,
    name: str = "helpscout_beacon",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Help Scout Beacon: the page fetches ``/sso/helpscout_beacon/token`` (or a template renders
    :func:`sso_middleware.snippets.user_hash`) for
    ``Beacon('identify', {name, email, signature})``.

    Follows "Secure Mode" (https://developer.helpscout.com/beacon-2/web/secure-mode/): "generate
    a SHA-256 HMAC code on your server" of the user's email with the Beacon's secret key
    (``OpenSSL::HMAC.hexdigest('sha256', 'secret_key_from_beacon_config', user.email)``), passed
    "as the signature attribute of the Beacon('identify') call" beside ``name`` and ``email``.
    (The older Secure Mode page's identify example, ``steve@aoki.com`` with signature
    ``2fe4d4a5…``, does not verify against the key its own samples use, under any reading tried:
    recorded in ``tests/data/vendor_vectors.json``; the current page's Python sample
    base64-encodes the digest where every other sample is hex: hex is what this preset sends.)
    The hash never expires (:class:`~sso_middleware.placements.UserHash` says what that means);
    a user without an email is refused.

    =========  =========  ======================================
    field      required   from
    =========  =========  ======================================
    email      yes        ``Principal.email`` (the hashed field)
    name       no         ``Principal.name``
    signature  yes        HMAC-SHA256 of ``email``, hex
    =========  =========  ======================================

    >>> helpscout_beacon(key="a-secret-of-at-least-thirty-two-bytes!").destination.placement
    UserHash('signature', of='email')
    """
    return user_hash(
        name=name, key=key, hashed=("email", "email"), hash_as="signature",
        also=[("name", "name")], extra_claims=extra_claims,
    )


__all__ = ["helpscout_beacon"]
