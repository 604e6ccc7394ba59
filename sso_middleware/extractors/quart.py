"""Quart (ASGI): Quart-Auth's ``current_user``, or a value in Quart's ``session``.

Quart, like Flask, keeps its user and session behind its request context: these
extractors build the request Quart would (``app.request_class``) and read the user
inside ``app.request_context(...)``, exactly as a view would. Wrap ``app.asgi_app``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from ..principal import Principal
from ..wiring import for_skin

if TYPE_CHECKING:
    from quart import Quart


async def _no_push(path: str, headers: Any) -> None:
    """HTTP/2 server push: never needed to read a user."""


def _request(app: Quart, scope: Any) -> Any:
    """The request Quart builds for ``scope`` (its path below ``root_path``, as Quart's own)."""
    from werkzeug.datastructures import Headers

    headers = Headers()
    for name, value in scope["headers"]:
        headers.add(name.decode("latin-1").title(), value.decode("latin-1"))
    root: str = scope.get("root_path", "")
    path: str = scope["path"]
    path = path[len(root):] if root and path.startswith(root) else path
    return app.request_class(
        scope["method"], scope["scheme"], path, scope["query_string"], headers, root,
        scope.get("http_version", "1.1"), scope, send_push_promise=_no_push,
    )


def quart_user(app: Quart) -> Callable[[Any], Awaitable[Principal | None]]:
    """The extractor for a Quart app that signs users in with Quart-Auth: ``current_user``.

    Quart-Auth knows only an ``auth_id``: that is the principal's ``id``. Give your
    ``QuartAuth(user_class=...)`` ``email`` and ``name`` properties (Quart-Auth's documented
    way to load more about a user) and they are sent too.

    :param app: your ``Quart`` app (the one ``QuartAuth`` was set up on).

    >>> from quart import Quart
    >>> quart_user(Quart(__name__)).__name__
    'quart_user'
    """

    @for_skin("asgi")
    async def quart_user(request: Any) -> Principal | None:
        from quart_auth import current_user

        async with app.request_context(_request(app, request.scope)):
            if not await current_user.is_authenticated:
                return None
            user = cast(Any, current_user)._get_current_object()  # the user_class instance, not its proxy
            return Principal(user.auth_id, getattr(user, "email", None), getattr(user, "name", None))

    return quart_user


def quart_session(app: Quart, key: str = "user") -> Callable[[Any], Awaitable[Any]]:
    """The extractor for a Quart app that keeps its user in ``session[key]`` (a mapping with
    ``id``, ``email``, ``name``), read through the app's own session interface.

    :param app: your ``Quart`` app (its ``secret_key`` signs the session cookie).
    :param key: the session key your login view writes.

    >>> from quart import Quart
    >>> quart_session(Quart(__name__)).__name__
    'quart_session'
    """

    @for_skin("asgi")
    async def quart_session(request: Any) -> Any:
        from quart import session

        async with app.request_context(_request(app, request.scope)):
            return session.get(key)

    return quart_session


__all__ = ["quart_session", "quart_user"]
