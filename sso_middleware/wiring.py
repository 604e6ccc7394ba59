"""How the middleware sits in an app: mistakes of wiring, caught when the middleware is built.

A WSGI middleware around an ASGI app (or the reverse) would construct fine and
then crash every page but its own; a ready extractor made for the other skin
would crash every login; two verifiers stacked with one cookie name would sign
each other's users out; one listed in Litestar's middleware would never see its own
paths (Litestar runs middleware only for the routes it knows). Each is a
:class:`~sso_middleware.ConfigurationError` at construction instead, naming the fix.

>>> async def asgi_app(scope, receive, send): ...
>>> check_app(asgi_app, asgi=False, owner="IssuerMiddleware")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sso_middleware.errors.ConfigurationError: app: IssuerMiddleware is WSGI but the app it wraps is ASGI...
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

from .errors import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])
_SKIN = "__sso_skin__"


def for_skin(skin: str) -> Callable[[F], F]:
    """Mark a ready extractor as reading one skin's request (``"wsgi"``, ``"asgi"`` or ``"aiohttp"``)."""

    def mark(extractor: F) -> F:
        setattr(extractor, _SKIN, skin)
        return extractor

    return mark


class AiohttpHandler:
    """What an aiohttp middleware wraps: the handler aiohttp passes it with each request.

    The aiohttp skin's middleware are built without an app (aiohttp lists them in
    ``web.Application(middlewares=[...])``); this stands in for the app, so the checks know
    which skin they look at.
    """

    __slots__ = ()

    async def __call__(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return await handler(request)

    def __repr__(self) -> str:
        return "<the aiohttp handler of each request>"


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


# The frameworks we can name from the wrapped app's class, and the fix in each one's own terms.
_FRAMEWORKS = {
    "flask": "Flask", "quart": "Quart", "django": "Django", "starlette": "Starlette",
    "fastapi": "FastAPI", "litestar": "Litestar", "falcon": "Falcon", "pyramid": "Pyramid",
    "bottle": "Bottle", "aiohttp": "aiohttp",
}
_WRAP = {  # where each skin's middleware goes in each framework
    ("Flask", "wsgi"): "app.wsgi_app = {owner}(app.wsgi_app, ...)",
    ("Quart", "asgi"): "app.asgi_app = {owner}(app.asgi_app, ...)",
    ("Django", "wsgi"): "application = {owner}(get_wsgi_application(), ...) in wsgi.py",
    ("Django", "asgi"): "application = {owner}(get_asgi_application(), ...) in asgi.py",
    ("Starlette", "asgi"): "Starlette(middleware=[Middleware({owner}, ...)])",
    ("FastAPI", "asgi"): "app.add_middleware({owner}, ...)",
    ("Litestar", "asgi"): "Litestar(..., plugins=[issuer_plugin(...)]), sso_middleware.extractors.litestar",
    ("Falcon", "wsgi"): "app = {owner}(falcon.App(...), ...)",
    ("Falcon", "asgi"): "app = {owner}(falcon.asgi.App(...), ...)",
    ("Pyramid", "wsgi"): "app = {owner}(config.make_wsgi_app(), ...)",
    ("Bottle", "wsgi"): "app = {owner}(bottle.Bottle(), ...)",
}
_EXTRACTORS = {  # the ready extractors that read each framework's user
    "Flask": "flask_login_user(app) or flask_session(app, 'user')",
    "Quart": "quart_user(app) or quart_session(app, 'user')",
    "Django": "django_user",
    "Starlette": "scope_user or session_key('user')",
    "FastAPI": "scope_user or session_key('user'), or your own dependency",
    "Litestar": "litestar_session_auth(auth), litestar_session('user') or litestar_user",
    "Falcon": "falcon_user(authenticate)",
    "Pyramid": "pyramid_user(router)",
    "Bottle": "bottle_cookie(name, secret=...)",
    "aiohttp": "aiohttp_session('user') or aiohttp_user",
}
_RECIPES = "docs/recipes.md"
_READS = {"wsgi": "WSGI", "asgi": "Starlette"}  # the request a skin's ready extractors read
_HIDE_USER = {  # frameworks that keep their user inside the app, out of these extractors' sight
    "scope_user": ("Django", "Quart", "Litestar"),
    "session_user": ("Django", "Quart"),
}


def framework(app: object) -> str | None:
    """The web framework whose app ``app`` is (or wraps), named as its docs name it; ``None``
    when no layer belongs to a framework we know.

    >>> from flask import Flask
    >>> framework(Flask(__name__).wsgi_app)
    'Flask'
    """
    for layer in wrapped(app):
        owner = getattr(layer, "__self__", layer)  # a bound method: Flask's wsgi_app, Quart's asgi_app
        found = _FRAMEWORKS.get(_module(owner))
        if found is not None:
            return found
    return None


def _advice(found: str | None, skin: str, owner: str) -> str:
    """The fix, in the framework's own terms when we know it."""
    where = _WRAP.get((found or "", skin))
    if where is not None:
        return f"({found}: {where.format(owner=owner)}; see {_RECIPES})"
    return f"(see {_RECIPES} for your framework)"


def _neither(app: object) -> bool:
    """An app whose server-facing call takes no request at all (aiohttp's ``web.Application``)."""
    entry = _entry(app)
    return entry is not None and not inspect.iscoroutinefunction(entry) and _positional(entry) == 0


def check_app(app: object, *, asgi: bool, owner: str) -> None:
    """Refuse an app of the other protocol (a Flask app under the ASGI skin, a Starlette app
    under the WSGI skin), and one that is neither (aiohttp's ``web.Application``), naming the fix
    in the framework's own terms."""
    if isinstance(app, AiohttpHandler):
        return
    if not callable(app):
        raise ConfigurationError(f"app: {owner} wraps an app; {app!r} is not callable.")
    found = framework(app)
    if found == "aiohttp":
        raise ConfigurationError(
            f"app: {owner} wraps a WSGI or an ASGI app, and {type(app).__name__} is neither (aiohttp "
            f"serves its own protocol); use sso_middleware.aiohttp.{owner}, an aiohttp middleware: "
            f"web.Application(middlewares=[{owner}(...)]) (see {_RECIPES}, aiohttp)."
        )
    if _neither(app):
        raise ConfigurationError(
            f"app: {owner} wraps a WSGI or an ASGI app, and {type(app).__name__} is neither; "
            f"see {_RECIPES} for your framework."
        )
    protocol = app_protocol(app)
    if protocol is None or protocol == ("asgi" if asgi else "wsgi"):
        return
    if asgi:
        raise ConfigurationError(
            f"app: {owner} is ASGI but the app it wraps is WSGI ({type(app).__name__}); use "
            f"sso_middleware.wsgi.{owner} {_advice(found or 'Flask', 'wsgi', owner)}."
        )
    raise ConfigurationError(
        f"app: {owner} is WSGI but the app it wraps is ASGI ({type(app).__name__}); use "
        f"sso_middleware.asgi.{owner} {_advice(found or 'FastAPI', 'asgi', owner)}."
    )


_UNROUTED = {  # the fix for a middleware Litestar builds for one of its routes
    "issuer": (
        "Add the issuer with Litestar(..., plugins=[issuer_plugin(services=..., user=...)]) from "
        "sso_middleware.extractors.litestar instead of listing it: the plugin adds a route under the "
        "prefix, so Litestar hands those requests to the issuer, and puts the issuer inside the "
        "session and auth middleware, so the extractor sees them"
    ),
    "verifier": (
        "Wrap the whole app instead of listing the verifier: app = VerifierMiddleware(Litestar(...), "
        "...); it then answers its own paths and sets scope['user'] for every request, matched or not"
    ),
}


def _litestar_route(app: object) -> bool:
    """Whether ``app`` is what Litestar builds for one of its routes (the route's handler, with
    the middleware Litestar adds around it), not a whole ``Litestar`` application: Litestar
    builds each middleware it lists once per route, when the app is made."""
    litestar = sys.modules.get("litestar.app")  # nothing of Litestar's exists before it is imported
    if litestar is None:
        return False
    layers = list(wrapped(app))
    if any(isinstance(layer, litestar.Litestar) for layer in layers):
        return False
    return any(_module(getattr(layer, "__self__", layer)) == "litestar" for layer in layers)


def _module(owner: object) -> str:
    """The top-level package a function, or an object's class, comes from."""
    module = owner.__module__ if inspect.isfunction(owner) else type(owner).__module__
    return str(module).partition(".")[0]


def check_routed(app: object, *, owner: str, role: Literal["issuer", "verifier"],
                 paths: Iterable[str]) -> None:
    """Refuse a middleware that Litestar builds for one of its routes (listed in
    ``Litestar(middleware=[...])``, a router's or a handler's ``middleware=``): Litestar runs it
    only for requests that match a route it knows, so its own ``paths`` would be 404s that
    nobody explains. Raised while ``Litestar(...)`` is made, where Litestar builds its routes.

    >>> from litestar import Litestar, get
    >>> @get("/")
    ... async def home() -> str:
    ...     return "home"
    >>> def issuer(app):  # as a middleware's __init__ calls it
    ...     check_routed(app, owner="IssuerMiddleware", role="issuer", paths=["/sso/frill"])
    ...     return app
    >>> issuer(Litestar([home])) is not None  # around the whole app: every path reaches it
    True
    >>> Litestar([home], middleware=[issuer])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    sso_middleware.errors.ConfigurationError: app: IssuerMiddleware is listed in a Litestar app's ...
    """
    if not _litestar_route(app):
        return
    shown = sorted(path for path in paths if path)
    listed = ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")
    raise ConfigurationError(
        f"app: {owner} is listed in a Litestar app's middleware, and Litestar runs middleware only "
        f"for requests that match one of its routes, so {listed} would be answered with a 404 that "
        f"nobody explains. "
        f"{_UNROUTED[role]} (see {_RECIPES}, Litestar)."
    )


def check_extractor(user: Callable[..., Any], *, asgi: bool, owner: str, app: object = None) -> None:
    """Refuse a ready extractor made for the other skin, one made for another framework's user
    (``scope_user`` cannot see Django's, Quart's or Litestar's), and an async extractor under WSGI."""
    skin = getattr(user, _SKIN, None)
    name = getattr(user, "__name__", type(user).__name__)
    protocol = "ASGI" if asgi else "WSGI"
    if isinstance(app, AiohttpHandler):
        _check_aiohttp_extractor(skin, name, owner)
        return  # aiohttp awaits an async extractor
    if skin == "aiohttp":
        raise ConfigurationError(
            f"user: {name} reads an aiohttp request, and this {owner} is {protocol}; "
            f"in an aiohttp app use sso_middleware.aiohttp.{owner} ({_RECIPES}, aiohttp)."
        )
    found = framework(app) if app is not None else None
    instead = _instead(found, asgi)
    if skin in _READS and (skin == "asgi") != asgi:
        raise ConfigurationError(f"user: {name} reads a {_READS[skin]} request, and {owner} is {protocol}; "
                                 f"{instead}.")
    if found in _HIDE_USER.get(name, ()):
        raise ConfigurationError(
            f"user: {name} reads Starlette's request.user / request.session, which {found} does not "
            f"set (it keeps its user inside the app); {instead}."
        )
    if not asgi and _is_async(user):
        raise ConfigurationError(
            f"user: {owner} is WSGI and cannot await an async extractor; pass a plain "
            "function, or use sso_middleware.asgi with an ASGI app."
        )


def _check_aiohttp_extractor(skin: object, name: str, owner: str) -> None:
    """aiohttp's middleware hands the extractor a ``web.Request``: no WSGI or Starlette reader."""
    if skin in _READS:
        raise ConfigurationError(
            f"user: {name} reads a {_READS[skin]} request, and "
            f"sso_middleware.aiohttp.{owner} hands the extractor aiohttp's web.Request; use "
            f"sso_middleware.extractors.{_EXTRACTORS['aiohttp']} ({_RECIPES}, aiohttp)."
        )


def _instead(found: str | None, asgi: bool) -> str:
    """What to use in place of a wrong extractor: ``found``'s ready one, or the skin's."""
    ready = _EXTRACTORS.get(found or "")
    return (f"for {found}, use sso_middleware.extractors.{ready}" if ready
            else "use " + ("scope_user or session_key(...)" if asgi else "remote_user")
            + f" from sso_middleware.extractors, or your own extractor ({_RECIPES})")


def check_hook(hook: Callable[..., Any] | None, *, asgi: bool, owner: str, name: str) -> None:
    """An app's hook the skin calls with its request (as the extractor): a WSGI skin cannot
    await an async one.

    >>> async def end_session(request):
    ...     return None
    >>> check_hook(end_session, asgi=True, owner="IssuerMiddleware", name="end_session")
    >>> check_hook(end_session, asgi=False, owner="IssuerMiddleware", name="end_session")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    sso_middleware.errors.ConfigurationError: end_session: IssuerMiddleware is WSGI and cannot await an ...
    """
    if hook is not None and not asgi and _is_async(hook):
        raise ConfigurationError(f"{name}: {owner} is WSGI and cannot await an async {name} hook; pass "
                                 "a plain function, or use sso_middleware.asgi with an ASGI app.")


def _is_async(user: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(user) or inspect.iscoroutinefunction(type(user).__call__)


def wrapped(app: object, depth: int = 64) -> Iterator[object]:
    """``app`` and the apps inside it, following the ``app`` attribute middleware keep
    (ours, Starlette's, werkzeug's, most others)."""
    seen: set[int] = set()
    while app is not None and id(app) not in seen and len(seen) < depth:
        seen.add(id(app))
        yield app
        app = getattr(app, "app", None)


__all__ = [
    "AiohttpHandler",
    "app_protocol",
    "check_app",
    "check_extractor",
    "check_hook",
    "check_routed",
    "for_skin",
    "framework",
    "wrapped",
]
