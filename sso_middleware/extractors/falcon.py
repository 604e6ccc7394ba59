"""Falcon (WSGI and ASGI): your authentication function, given Falcon's own request.

Falcon keeps no session and no user of its own: its docs authenticate in a middleware
component's ``process_request`` that sets ``req.context.user``. Write that lookup as a
function of a ``falcon.Request`` and use it in both places: in your middleware, and here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError


def falcon_user(authenticate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The extractor that calls ``authenticate(req)`` with the ``falcon.Request`` (WSGI) or
    ``falcon.asgi.Request`` (ASGI, where ``authenticate`` may be async) of the request.

    :param authenticate: ``req -> user | None``, the function your auth middleware calls
        (it returns a mapping or an object with ``id``, ``email``, ``name``).

    >>> def authenticate(req): return {"id": 1} if req.get_cookie_values("session") else None
    >>> falcon_user(authenticate).__name__
    'falcon_user'
    """

    def falcon_user(request: Any) -> Any:
        scope = getattr(request, "scope", None)
        if scope is not None:
            from falcon.asgi import Request as ASGIRequest

            return authenticate(ASGIRequest(scope, request.receive))
        from falcon import Request

        user = authenticate(Request(request.environ))
        if inspect.isawaitable(user):
            getattr(user, "close", lambda: None)()
            raise ConfigurationError(
                "user=falcon_user(...): the authenticate function is async, and a WSGI falcon.App "
                "cannot await it; pass a plain function, or serve falcon.asgi.App with "
                "sso_middleware.asgi.IssuerMiddleware."
            )
        return user

    return falcon_user


__all__ = ["falcon_user"]
