"""When the user signed in, and whether that is recent enough: ``prompt=login`` and ``max_age``.

The provider does not sign anybody in; the app does, at its ``login_url``. So the provider
knows *when* the user authenticated only from the app: the principal's ``auth_time``
attribute (Unix seconds of the user's last active sign-in, e.g. stored in the app's session
when the password was checked). One more fact it knows by itself: when it sends a browser to
the login page, it marks the URL it resumes at with the time (see :mod:`.marks`). Back there,
the user signed in again if the app's ``auth_time`` is at or after that time.

The rules (OpenID Connect Core 3.1.2.1):

- ``prompt=login``, or a session older than ``max_age`` by the app's ``auth_time``: the user
  goes to ``login_url?next=...&prompt=login`` and the flow resumes when they come back.
- A resumed request never goes to the login page a second time: if the user came back
  without signing in again (a login page that bounces a signed-in user straight back), the
  client gets ``error=login_required``. No loop.
- The app gives no ``auth_time``: the provider cannot tell whether the user signed in again,
  so ``prompt=login`` and ``max_age`` get ``error=login_required`` (the spec's answer when the
  provider "cannot reauthenticate the End-User"), even for a request that was resumed from a
  browser where nobody was signed in: the mark is not bound to a browser, and whoever holds a
  session (a stolen cookie, an unlocked computer) can fetch one in a private window and resume
  it with the session, no password typed. (Without either, the ID token's ``auth_time`` of a
  user who was anonymous then is the time they were sent to sign in: no earlier than that.)
- ``prompt=none``: never a page; ``login_required`` instead.
"""

from __future__ import annotations

import math

from ..principal import Principal

MARK_TTL = 900
"""Seconds a user may take at the login page (a resumed request older than that starts over)."""
SKEW = 5
"""Seconds an ``auth_time`` may be ahead of the provider's clock: the app's login may have run on
another host (the marks allow as much)."""


class MustSignIn(Exception):
    """Raised when the user must authenticate (again) at the app's login page first."""


class CannotTell(Exception):
    """Raised when a fresh sign-in is required and cannot be verified (``login_required``); its
    message says why, in words the client's developer reads (``error_description``)."""

    UNKNOWN = "The user must sign in again, and the app does not say when they last did (auth_time)."
    NOT_AGAIN = "The user came back from the login page without signing in again."


def app_auth_time(principal: Principal, now: float) -> int | None:
    """The principal's ``auth_time`` attribute when it is a sane Unix time (not a bool, finite,
    not in the future but for :data:`SKEW`, which counts as now), else ``None``."""
    value = principal.attributes.get("auth_time")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not (math.isfinite(value) and 0 < value <= now + SKEW):
        return None
    return int(min(value, now))


def needs_sign_in(prompts: frozenset[str], max_age: int | None, known: int | None, now: float) -> bool:
    """Whether the request asks for an authentication the session cannot show."""
    if "login" in prompts:
        return True
    return max_age is not None and (known is None or now - known > max_age)


def authenticated_at(prompts: frozenset[str], max_age: int | None, principal: Principal,
                     resumed: tuple[int, bool] | None, now: float) -> int:
    """The ``auth_time`` the ID token carries, or why none can be given yet.

    :param resumed: ``(since, anonymous)`` when the request resumed from the login page the
        provider sent the user to at ``since`` (``anonymous``: nobody was signed in then).
    :raises MustSignIn: the user goes to the login page (only for a request not resumed).
    :raises CannotTell: ``login_required``.

    >>> ada = Principal("ada", attributes={"auth_time": 1000})
    >>> authenticated_at(frozenset(), 600, ada, None, 1060)  # signed in a minute ago
    1000
    >>> authenticated_at(frozenset(), 30, ada, None, 1060)  # longer ago than max_age
    Traceback (most recent call last):
      ...
    sso_middleware.oidc.freshness.MustSignIn
    >>> authenticated_at(frozenset({"login"}), None, ada, (1050, False), 1060)  # back, not again
    Traceback (most recent call last):
      ...
    sso_middleware.oidc.freshness.CannotTell: The user came back from the login page without signing in again.
    """
    known = app_auth_time(principal, now)
    since, anonymous = resumed if resumed is not None else (None, False)
    if known is not None and since is not None and known >= since:
        return known  # signed in after the provider asked
    if not needs_sign_in(prompts, max_age, known, now):
        if known is not None:
            return known
        # nobody then, somebody now: a sign-in no earlier than that (a guess, never shown as fresh)
        return since if anonymous and since is not None else int(now)
    if known is None:
        raise CannotTell(CannotTell.UNKNOWN)
    if resumed is not None:
        raise CannotTell(CannotTell.NOT_AGAIN)
    raise MustSignIn()


__all__ = ["MARK_TTL", "SKEW", "CannotTell", "MustSignIn", "app_auth_time", "authenticated_at",
           "needs_sign_in"]
