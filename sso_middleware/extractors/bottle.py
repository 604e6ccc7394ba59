"""Bottle (WSGI): the user your login route stored in a signed cookie, Bottle's own session.

Bottle has no session object; its docs keep a signed-in user in a cookie set with
``response.set_cookie(name, value, secret=...)`` and read it with
``request.get_cookie(name, secret=...)``. This extractor reads it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..wiring import for_skin


def bottle_cookie(
    name: str, *, secret: str, load: Callable[[str], Any] | None = None
) -> Callable[[Any], Any]:
    """The extractor for a Bottle app that keeps its signed-in user's id in the signed cookie
    ``name``; ``load(user_id)`` returns the user (a mapping or an object with ``id``, ``email``,
    ``name``), or ``None`` for a user that no longer exists.

    A cookie whose signature does not match ``secret`` is nobody, as it is to Bottle.

    :param name: the cookie's name.
    :param secret: the secret your login route signs it with.
    :param load: your user lookup (default: the id alone).

    >>> bottle_cookie("user", secret="a-secret-of-at-least-thirty-two-bytes!").__name__
    'bottle_cookie'
    """

    @for_skin("wsgi")
    def bottle_cookie(request: Any) -> Any:
        from bottle import BaseRequest

        user_id = BaseRequest(request.environ).get_cookie(name, secret=secret)
        if not user_id:
            return None
        return load(user_id) if load is not None else {"id": user_id}

    return bottle_cookie


__all__ = ["bottle_cookie"]
