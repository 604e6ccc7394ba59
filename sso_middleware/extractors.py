"""Ready user extractors for the common places an app keeps its signed-in user.

An extractor takes the framework's request object and returns a
:class:`~sso_middleware.Principal`, a mapping, an object with ``id``/``email``/
``name``, or ``None`` when nobody is signed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from .errors import ConfigurationError
from .messages import PRINCIPAL_KEY
from .principal import Principal
from .wiring import for_skin

_ORDER = (
    "List them outermost first: middleware=[Middleware(SessionMiddleware, ...), "
    "Middleware(AuthenticationMiddleware, ...), Middleware(IssuerMiddleware, ...)] "
    "(app.add_middleware adds outermost: call it for IssuerMiddleware first)."
)


@for_skin("wsgi")
def remote_user(request: Any) -> Principal | dict[str, Any] | None:
    """WSGI: the user in ``REMOTE_USER``, set by the server, an outer middleware, or this
    library's ``VerifierMiddleware`` (then with the email and name its token carried).

    >>> from werkzeug.test import EnvironBuilder
    >>> from werkzeug.wrappers import Request
    >>> remote_user(Request(EnvironBuilder(environ_overrides={"REMOTE_USER": "ada"}).get_environ()))
    {'id': 'ada'}
    """
    environ = request.environ
    value = environ.get("REMOTE_USER")
    if not value:
        return None
    principal = environ.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal) and str(principal.id) == value:
        return principal
    return {"id": value}


@for_skin("asgi")
def scope_user(request: Any) -> Any:
    """ASGI: Starlette's ``request.user`` (``AuthenticationMiddleware``, or this library's
    ``VerifierMiddleware``), if authenticated.

    A user with ``id`` (and ideally ``email`` and ``name``) attributes is passed on as is;
    one without an ``id``, such as Starlette's ``SimpleUser``, is identified by its
    ``username``. No ``request.user`` at all means the authentication middleware is missing
    or sits inside the issuer: that is a configuration error, explained in the log.
    """
    scope = request.scope
    if "user" not in scope:
        raise ConfigurationError(
            "user=scope_user: this request has no request.user, so AuthenticationMiddleware "
            "is missing or sits inside IssuerMiddleware (a VerifierMiddleware outside it also "
            f"sets request.user). {_ORDER}"
        )
    user = scope["user"]
    if not getattr(user, "is_authenticated", False):
        return None
    principal = getattr(user, "principal", None)
    if isinstance(principal, Principal):
        return principal
    if getattr(user, "id", None) is None:
        return Principal(
            getattr(user, "username", None) or user.display_name,
            getattr(user, "email", None),
            getattr(user, "name", None),
        )
    return user


def session_key(key: str = "user") -> Callable[[Any], Any]:
    """ASGI: a mapping stored under ``key`` in Starlette's ``request.session``.

    No session at all means ``SessionMiddleware`` is missing or sits inside the issuer:
    a configuration error, explained in the log.

    >>> extractor = session_key("user")
    >>> extractor.__name__
    'session_user'
    """

    @for_skin("asgi")
    def session_user(request: Any) -> Any:
        session = request.scope.get("session")
        if not isinstance(session, Mapping):
            raise ConfigurationError(
                f"user=session_key({key!r}): this request has no request.session, so "
                f"SessionMiddleware is missing or sits inside IssuerMiddleware. {_ORDER}"
            )
        return session.get(key)

    return session_user


@for_skin("wsgi")
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
