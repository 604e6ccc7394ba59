"""Django (WSGI and ASGI): the user of Django's session cookie, through ``django.contrib.auth``."""

from __future__ import annotations

from collections.abc import Awaitable
from types import SimpleNamespace
from typing import Any

from ..principal import Principal


def _user_of(session_key: str) -> Principal | None:
    """The signed-in user of a session, as Django's own ``AuthenticationMiddleware`` finds it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    if not user.is_authenticated:
        return None
    return Principal(
        user.pk,
        getattr(user, "email", None) or None,
        user.get_full_name() or user.get_username(),
        {"username": user.get_username()},
    )


def django_user(request: Any) -> Principal | Awaitable[Principal | None] | None:
    """The Django user of the request's session cookie (``django.contrib.sessions`` + ``auth``),
    on either skin: wrap what ``get_wsgi_application()`` or ``get_asgi_application()`` returns.

    Reads the session through Django's own session engine and ``django.contrib.auth.get_user``
    (which also checks the session's auth hash), so it sees exactly the user Django would; a
    forged or expired session cookie is nobody. Under ASGI the lookup runs through
    ``asgiref.sync.sync_to_async``, as Django runs its own sync code from async views.

    >>> from sso_middleware.asgi import IssuerMiddleware
    >>> from sso_middleware import services
    >>> async def django_asgi(scope, receive, send): ...
    >>> app = IssuerMiddleware(django_asgi, user=django_user, services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    """
    from django.conf import settings

    key = request.cookies.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    if hasattr(request, "scope"):  # ASGI: the ORM is sync, so it runs in Django's thread
        from asgiref.sync import sync_to_async

        return sync_to_async(_user_of)(key)
    return _user_of(key)


__all__ = ["django_user"]
