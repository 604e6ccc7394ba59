"""Starlette and FastAPI (ASGI): ``request.user`` and ``request.session``.

Starlette keeps its user and session in the scope, set by ``AuthenticationMiddleware``
and ``SessionMiddleware``: list them outside (before) the issuer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..principal import Principal
from ..wiring import for_skin

_ORDER = (
    "List them outermost first: middleware=[Middleware(SessionMiddleware, ...), "
    "Middleware(AuthenticationMiddleware, ...), Middleware(IssuerMiddleware, ...)] "
    "(app.add_middleware adds outermost: call it for IssuerMiddleware first)."
)


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


__all__ = ["scope_user", "session_key"]
