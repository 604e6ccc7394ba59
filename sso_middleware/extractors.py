"""Ready user extractors for the common places an app keeps its signed-in user.

An extractor takes the framework's request object and returns a
:class:`~sso_middleware.Principal`, a mapping, an object with ``id``/``email``/
``name``, or ``None`` when nobody is signed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def remote_user(request: Any) -> dict[str, Any] | None:
    """WSGI: the user the server or an outer middleware put in ``REMOTE_USER``.

    >>> from werkzeug.test import EnvironBuilder
    >>> from werkzeug.wrappers import Request
    >>> remote_user(Request(EnvironBuilder(environ_overrides={"REMOTE_USER": "ada"}).get_environ()))
    {'id': 'ada'}
    """
    value = request.environ.get("REMOTE_USER")
    return {"id": value} if value else None


def scope_user(request: Any) -> Any:
    """ASGI: Starlette's ``request.user`` (set by ``AuthenticationMiddleware``), if authenticated.

    The user object is passed on as is; it needs ``id`` (and ideally ``email``
    and ``name``) attributes, or use :func:`session_key` / your own extractor.
    """
    user = request.scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def session_key(key: str = "user") -> Callable[[Any], Any]:
    """ASGI: a mapping stored under ``key`` in Starlette's ``request.session``.

    >>> extractor = session_key("user")
    >>> extractor.__name__
    'session_user'
    """

    def session_user(request: Any) -> Any:
        session = request.scope.get("session")
        if not isinstance(session, Mapping):
            return None
        return session.get(key)

    return session_user
