"""Ready user extractors for the common places an app keeps its signed-in user.

An extractor takes the framework's request object and returns a
:class:`~sso_middleware.Principal`, a mapping, an object with ``id``/``email``/
``name``, or ``None`` when nobody is signed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from .principal import Principal


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


def django_user(request: Any) -> Principal | None:
    """WSGI: the Django user of the request's session cookie (``django.contrib.sessions`` + ``auth``).

    Reads the session through Django's own session engine and
    ``django.contrib.auth.get_user`` (which also checks the session's auth
    hash), so it sees exactly the user Django would. Wrap the object
    ``get_wsgi_application()`` returns.

    >>> django_user.__name__
    'django_user'
    """
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    key = request.cookies.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = get_user(SimpleNamespace(session=store))
    if not user.is_authenticated:
        return None
    return Principal(
        user.pk,
        getattr(user, "email", None) or None,
        user.get_full_name() or user.get_username(),
        {"username": user.get_username()},
    )


__all__ = [
    "django_user",
    "remote_user",
    "scope_user",
    "session_key",
]
