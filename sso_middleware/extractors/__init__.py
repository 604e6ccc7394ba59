"""Ready user extractors: each reads the signed-in user the way its framework does.

An extractor takes the request the issuer hands it (``werkzeug.Request`` on WSGI,
``starlette.Request`` on ASGI, ``aiohttp.web.Request`` on aiohttp) and returns a
:class:`~sso_middleware.Principal`, a mapping, an object with ``id``/``email``/``name``, or
``None`` when nobody is signed in.
One small module per framework; none imports its framework until a request needs it, so
importing this package costs nothing::

    from sso_middleware.extractors import remote_user                  # any WSGI app
    from sso_middleware.extractors import scope_user, session_key      # Starlette, FastAPI
    from sso_middleware.extractors import django_user                  # Django, WSGI or ASGI
    from sso_middleware.extractors import flask_login_user, flask_session
    from sso_middleware.extractors import quart_user, quart_session
    from sso_middleware.extractors import litestar_session, litestar_session_auth, litestar_user
    from sso_middleware.extractors import falcon_user, pyramid_user, bottle_cookie
    from sso_middleware.extractors import aiohttp_session, aiohttp_user   # sso_middleware.aiohttp

Litestar's issuer goes in as ``issuer_plugin(...)`` (``sso_middleware.extractors.litestar``).
"""

from .aiohttp import aiohttp_session as aiohttp_session
from .aiohttp import aiohttp_user as aiohttp_user
from .bottle import bottle_cookie as bottle_cookie
from .django import django_user as django_user
from .environ import remote_user as remote_user
from .falcon import falcon_user as falcon_user
from .flask import flask_login_user as flask_login_user
from .flask import flask_session as flask_session
from .litestar import litestar_session as litestar_session
from .litestar import litestar_session_auth as litestar_session_auth
from .litestar import litestar_user as litestar_user
from .pyramid import pyramid_user as pyramid_user
from .quart import quart_session as quart_session
from .quart import quart_user as quart_user
from .starlette import scope_user as scope_user
from .starlette import session_key as session_key

__all__ = [
    "aiohttp_session",
    "aiohttp_user",
    "bottle_cookie",
    "django_user",
    "falcon_user",
    "flask_login_user",
    "flask_session",
    "litestar_session",
    "litestar_session_auth",
    "litestar_user",
    "pyramid_user",
    "quart_session",
    "quart_user",
    "remote_user",
    "scope_user",
    "session_key",
]
