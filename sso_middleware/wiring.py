"""How the middleware sits in an app: mistakes of wiring, caught when the middleware is built.

A WSGI middleware around an ASGI app (or the reverse) would construct fine and
then crash every page but its own; a ready extractor made for the other skin
would crash every login; two verifiers stacked with one cookie name would sign
each other's users out. Each is a :class:`~sso_middleware.ConfigurationError`
at construction instead, naming the fix.

>>> async def asgi_app(scope, receive, send): ...
>>> check_app(asgi_app, asgi=False, owner="IssuerMiddleware")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sso_middleware.errors.ConfigurationError: app: IssuerMiddleware is WSGI but the app it wraps is ASGI...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .errors import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])
_SKIN = "__sso_skin__"


def for_skin(skin: str) -> Callable[[F], F]:
    """Mark a ready extractor as reading one skin's request (``"wsgi"`` or ``"asgi"``)."""

    def mark(extractor: F) -> F:
        setattr(extractor, _SKIN, skin)
        return extractor

    return mark


def _entry(app: object) -> Callable[..., Any] | None:
    """The function a server calls: the app itself, or its class's ``__call__``."""
    if inspect.isfunction(app) or inspect.ismethod(app):
        return app
    call = getattr(type(app), "__call__", None)  # noqa: B004 - the class's, not an instance attribute
    return call if inspect.isfunction(call) else None


def _positional(function: Callable[..., Any]) -> int | None:
    """How many positional parameters ``function`` takes (bound ``self`` excluded); None for *args."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    if inspect.isfunction(function) and parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    kinds = [p.kind for p in parameters]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(kind in positional for kind in kinds)


def app_protocol(app: object) -> str | None:
    """``"asgi"`` or ``"wsgi"`` when ``app`` surely is one, else ``None`` (then nothing is claimed).

    >>> def wsgi_app(environ, start_response): ...
    >>> app_protocol(wsgi_app)
    'wsgi'
    """
    entry = _entry(app)
    if entry is None:
        return None
    if inspect.iscoroutinefunction(entry):
        return "asgi"
    return "wsgi" if _positional(entry) == 2 else None


def check_app(app: object, *, asgi: bool, owner: str) -> None:
    """Refuse an app of the other protocol (a Flask app under the ASGI skin, a Starlette app
    under the WSGI skin)."""
    if not callable(app):
        raise ConfigurationError(f"app: {owner} wraps an app; {app!r} is not callable.")
    found = app_protocol(app)
    if found is None or found == ("asgi" if asgi else "wsgi"):
        return
    if asgi:
        raise ConfigurationError(
            f"app: {owner} is ASGI but the app it wraps is WSGI ({type(app).__name__}); use "
            f"sso_middleware.wsgi.{owner} (Flask: app.wsgi_app = {owner}(app.wsgi_app, ...))."
        )
    raise ConfigurationError(
        f"app: {owner} is WSGI but the app it wraps is ASGI ({type(app).__name__}); use "
        f"sso_middleware.asgi.{owner} (Starlette/FastAPI: app.add_middleware({owner}, ...))."
    )


def check_extractor(user: Callable[..., Any], *, asgi: bool, owner: str) -> None:
    """Refuse a ready extractor made for the other skin, and an async extractor under WSGI."""
    skin = getattr(user, _SKIN, None)
    name = getattr(user, "__name__", type(user).__name__)
    if skin == "wsgi" and asgi:
        raise ConfigurationError(
            f"user: {name} reads a WSGI request, and {owner} is ASGI; use "
            "sso_middleware.extractors.scope_user or session_key(...), or your own extractor."
        )
    if skin == "asgi" and not asgi:
        raise ConfigurationError(
            f"user: {name} reads a Starlette request, and {owner} is WSGI; use "
            "sso_middleware.extractors.remote_user or django_user, or your own extractor."
        )
    if not asgi and (inspect.iscoroutinefunction(user) or inspect.iscoroutinefunction(type(user).__call__)):
        raise ConfigurationError(
            f"user: {owner} is WSGI and cannot await an async extractor; pass a plain "
            "function, or use sso_middleware.asgi with an ASGI app."
        )


def wrapped(app: object, depth: int = 64) -> Iterator[object]:
    """``app`` and the apps inside it, following the ``app`` attribute middleware keep
    (ours, Starlette's, werkzeug's, most others)."""
    seen: set[int] = set()
    while app is not None and id(app) not in seen and len(seen) < depth:
        seen.add(id(app))
        yield app
        app = getattr(app, "app", None)


__all__ = ["app_protocol", "check_app", "check_extractor", "for_skin", "wrapped"]
