"""The apps ``real_servers.py`` starts under uvicorn and gunicorn, one per server process, as
``benchmarks.wrk_apps:<name>`` from the repository's root.

ASGI (uvicorn): ``bare`` and ``bare_again`` (the A/A control: the same app, measured as if it
were another), ``empty`` and ``empty2`` (one and two pure-ASGI layers that do nothing), ``ours``
(issuer over verifier over the app), ``snippet`` (the vendors' ``jwt.encode`` + redirect route),
``same`` (a route doing the issuer's work: the same claims with a ``jti``, the four security
headers, the redirect) and ``hand`` (``jwt.decode`` + Starlette's ``SessionMiddleware``). WSGI
(gunicorn): ``flask_bare``, ``flask_bare_again``, ``flask_empty``, ``flask_empty2``, ``flask_ours``,
``flask_snippet`` and ``flask_same``.
"""

from __future__ import annotations

from . import apps
from .floors import Empty, EmptyWSGI, two_empty, two_empty_wsgi

bare = apps.starlette_hello()
bare_again = apps.starlette_hello()
empty = Empty(apps.starlette_hello())
empty2 = two_empty(apps.starlette_hello())
ours = apps.asgi_issuer(apps.asgi_verifier(apps.starlette_hello()))
snippet = apps.starlette_vendor_snippet()
same = apps.starlette_same_work()
hand = apps.starlette_hand_verifier()

_flask = apps.flask_hello()
flask_bare = _flask.wsgi_app
flask_bare_again = apps.flask_hello().wsgi_app
flask_empty = EmptyWSGI(apps.flask_hello().wsgi_app)
flask_empty2 = two_empty_wsgi(apps.flask_hello().wsgi_app)
flask_snippet = apps.flask_vendor_snippet().wsgi_app
flask_same = apps.flask_same_work().wsgi_app
flask_ours = apps.wsgi_issuer(apps.wsgi_verifier(apps.flask_hello().wsgi_app))
