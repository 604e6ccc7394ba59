"""aiohttp: a value in ``aiohttp_session``'s session, or the verifier's user.

aiohttp keeps its session inside its own request handling: ``aiohttp_session``'s middleware
puts the storage on each request and ``await get_session(request)`` loads it, as a handler
would. These extractors read aiohttp's own ``web.Request``: use them with
``sso_middleware.aiohttp.IssuerMiddleware``, listed after the session middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ConfigurationError
from ..wiring import for_skin

_ORDER = (
    "List the session middleware before the issuer: web.Application(middlewares=["
    "session_middleware(storage), IssuerMiddleware(...)]); aiohttp_session.setup(app, storage) "
    "appends it, so call it before app.middlewares.append(issuer)."
)


def aiohttp_session(key: str = "user") -> Callable[[Any], Awaitable[Any]]:
    """The extractor for an aiohttp app that keeps its user in ``aiohttp_session``'s session
    under ``key`` (a mapping with ``id``, ``email``, ``name``), read with
    ``await aiohttp_session.get_session(request)``.

    No session middleware before the issuer is a configuration error, explained in the log.

    :param key: the session key your login handler writes.

    >>> aiohttp_session("user").__name__
    'aiohttp_session_user'
    """

    @for_skin("aiohttp")
    async def aiohttp_session_user(request: Any) -> Any:
        from aiohttp_session import SESSION_KEY, STORAGE_KEY, get_session

        if request.get(STORAGE_KEY) is None and request.get(SESSION_KEY) is None:
            raise ConfigurationError(
                f"user=aiohttp_session({key!r}): this request has no aiohttp_session storage, so "
                f"its middleware is missing or sits after IssuerMiddleware. {_ORDER}"
            )
        session = await get_session(request)
        return session.get(key)

    return aiohttp_session_user


@for_skin("aiohttp")
def aiohttp_user(request: Any) -> Any:
    """aiohttp: the user a ``VerifierMiddleware`` listed before the issuer verified
    (``request[sso_middleware.aiohttp.USER]``), else ``request["user"]`` where your own
    authentication middleware may put it; ``None`` when neither is set."""
    from ..aiohttp import USER

    found = request.get(USER)
    return found if found is not None else request.get("user")


__all__ = ["aiohttp_session", "aiohttp_user"]
