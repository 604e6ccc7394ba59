"""Litestar (ASGI): its own session backends and ``SessionAuth``, and the issuer as a plugin.

Litestar runs middleware only for requests that match a route: an issuer listed in
``middleware=[...]`` would never see ``/sso/frill`` (so it is refused while ``Litestar(...)``
is made, naming this plugin), and an issuer wrapped around the whole app runs before
Litestar has loaded the session. :func:`issuer_plugin` does both halves right: it adds the
issuer to the app's middleware (inside the session and auth middleware, so it sees them) and
a route under the issuer's prefix, so Litestar hands those requests to the middleware.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..wiring import for_skin

if TYPE_CHECKING:
    from litestar.plugins import InitPlugin
    from litestar.security.session_auth import SessionAuth

_PLACE = (
    "Litestar loads the session only inside the app, for matched routes: pass the issuer as "
    "Litestar(..., middleware=[session_config.middleware], plugins=[issuer_plugin(services=..., "
    "user=...)]) (sso_middleware.extractors.litestar; see docs/recipes.md, Litestar)."
)


def _session(scope: Mapping[str, Any], who: str) -> Mapping[str, Any] | None:
    """The session Litestar's session middleware loaded (``None`` when it is empty)."""
    if "session" not in scope:
        raise ConfigurationError(f"user={who}: this request has no Litestar session. {_PLACE}")
    session = scope["session"]
    return session if isinstance(session, Mapping) and session else None


def litestar_session(key: str = "user") -> Callable[[Any], Any]:
    """The extractor for a Litestar app that keeps its user in ``request.session[key]`` (a
    mapping with ``id``, ``email``, ``name``), with any of Litestar's session backends
    (``CookieBackendConfig``, ``ServerSideSessionConfig``).

    :param key: the session key your login handler writes (``request.set_session({key: ...})``).

    >>> litestar_session("user").__name__
    'litestar_session'
    """

    @for_skin("asgi")
    def litestar_session(request: Any) -> Any:
        session = _session(request.scope, f"litestar_session({key!r})")
        return None if session is None else session.get(key)

    return litestar_session


def litestar_session_auth(auth: SessionAuth[Any, Any]) -> Callable[[Any], Awaitable[Any]]:
    """The extractor for a Litestar app that signs users in with ``SessionAuth``: the user your
    ``retrieve_user_handler`` returns for the request's session, as ``request.user`` would be.

    The user object's ``id``, ``email`` and ``name`` (attributes or mapping keys) become the
    principal. The issuer's route is excluded from authentication (an anonymous user is sent
    to your ``login_url`` instead of getting Litestar's 401), so this reads the session itself.

    :param auth: your ``SessionAuth`` instance.

    >>> from litestar.middleware.session.client_side import CookieBackendConfig
    >>> from litestar.security.session_auth import SessionAuth
    >>> auth = SessionAuth(retrieve_user_handler=lambda session, connection: None,
    ...                    session_backend_config=CookieBackendConfig(secret=b"0" * 16))
    >>> litestar_session_auth(auth).__name__
    'litestar_session_auth'
    """

    @for_skin("asgi")
    async def litestar_session_auth(request: Any) -> Any:
        from litestar.connection import ASGIConnection

        session = _session(request.scope, "litestar_session_auth(auth)")
        if session is None:
            return None
        user = auth.retrieve_user_handler(session, ASGIConnection(request.scope))
        return await user if inspect.isawaitable(user) else user

    return litestar_session_auth


@for_skin("asgi")
def litestar_user(request: Any) -> Any:
    """The extractor for a Litestar app with its own authentication middleware
    (``AbstractAuthenticationMiddleware``): ``request.user``, when it has run for the issuer's
    route (``issuer_plugin(..., exclude_from_auth=False)``).

    >>> from types import SimpleNamespace
    >>> litestar_user(SimpleNamespace(scope={"user": {"id": 1}}))
    {'id': 1}
    """
    return request.scope.get("user")


def issuer_plugin(*, prefix: str = "/sso", exclude_from_auth: bool = True, **options: Any) -> InitPlugin:
    """The issuer for a Litestar app: ``Litestar(..., plugins=[issuer_plugin(services=..., user=...)])``.

    Adds :class:`sso_middleware.asgi.IssuerMiddleware` last to the app's middleware (inside
    the session and auth middleware, so the extractor sees them) and one route,
    ``{prefix}/{path}``, so that Litestar runs that middleware for the issuer's paths. The
    options are checked when the plugin is made, as the middleware checks them.

    :param prefix: the issuer's prefix (``/sso``).
    :param exclude_from_auth: keep Litestar's authentication off the issuer's route, so an
        anonymous user reaches your ``login_url`` instead of a 401 (read the user with
        :func:`litestar_session_auth`). ``False`` lets it run (read it with :func:`litestar_user`).
    :param options: the :class:`~sso_middleware.flows.IssuerMiddleware` options.

    >>> from sso_middleware import services
    >>> plugin = issuer_plugin(user=litestar_session("user"), services=[
    ...     services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["fb.acme.com"])])
    >>> type(plugin).__name__
    'IssuerPlugin'
    """
    from litestar import route
    from litestar.config.app import AppConfig
    from litestar.exceptions import NotFoundException
    from litestar.middleware import DefineMiddleware
    from litestar.plugins import InitPlugin

    from ..asgi import IssuerMiddleware

    async def _nothing(scope: Any, receive: Any, send: Any) -> None: ...

    IssuerMiddleware(_nothing, prefix=prefix, **options)  # refuse a wrong option now, not per route

    class RoutedIssuer(IssuerMiddleware):
        """The issuer as the plugin lists it: the plugin's route hands it the prefix's requests."""

        _routed = True

    @route(f"{prefix}/{{path:path}}", http_method=["GET", "POST"], include_in_schema=False,
           opt={"exclude_from_auth": exclude_from_auth}, sync_to_thread=False, name="sso_middleware")
    def sso_paths() -> None:
        """Reached only for a path under the prefix that is not a service's: the issuer passed it."""
        raise NotFoundException()

    class IssuerPlugin(InitPlugin):
        def on_app_init(self, app_config: AppConfig) -> AppConfig:
            app_config.middleware.append(
                DefineMiddleware(RoutedIssuer, prefix=prefix, **options)  # type: ignore[arg-type]
            )
            app_config.route_handlers.append(sso_paths)
            return app_config

    return IssuerPlugin()


__all__ = ["issuer_plugin", "litestar_session", "litestar_session_auth", "litestar_user"]
