"""The apps ``real_servers.py`` starts under uvicorn and gunicorn, one per server process, as
``benchmarks.wrk_apps:<name>`` from the repository's root.

ASGI (uvicorn): ``bare`` and ``bare_again`` (the A/A control: the same app, measured as if it were
another), ``empty`` (a pure-ASGI layer that does nothing), ``ours`` (issuer over verifier over the
app), ``snippet`` (the vendors' ``jwt.encode`` + redirect route) and ``hand`` (``jwt.decode`` +
Starlette's ``SessionMiddleware``). WSGI (gunicorn): ``flask_bare``, ``flask_bare_again``,
``flask_empty`` and ``flask_ours``.
"""

from __future__ import annotations

from typing import Any

from . import apps


class Empty:
    """A pure-ASGI layer that only passes the call on: the floor of any middleware."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class EmptyWSGI:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


bare = apps.starlette_hello()
bare_again = apps.starlette_hello()
empty = Empty(apps.starlette_hello())
ours = apps.asgi_issuer(apps.asgi_verifier(apps.starlette_hello()))
snippet = apps.starlette_vendor_snippet()
hand = apps.starlette_hand_verifier()

_flask = apps.flask_hello()
flask_bare = _flask.wsgi_app
flask_bare_again = apps.flask_hello().wsgi_app
flask_empty = EmptyWSGI(apps.flask_hello().wsgi_app)
flask_ours = apps.wsgi_issuer(apps.wsgi_verifier(apps.flask_hello().wsgi_app))
