"""Apps for `sso-middleware check`: the issuer (or a verifier) wherever each framework keeps it."""

from sso_middleware import asgi, services, wsgi

FRILL = services.frill(key="frill-board-key-0123456789abcdefghijklmnop", hosts=["acme.frill.co"])
APPS_KEY = "apps-key-0123456789abcdefghijklmnopqr"


def user(request):
    return None


def flask_app():
    from flask import Flask

    app = Flask(__name__)
    app.wsgi_app = wsgi.IssuerMiddleware(app.wsgi_app, services=[FRILL], user=user)
    return app


def quart_app():
    from quart import Quart

    app = Quart(__name__)
    app.asgi_app = asgi.IssuerMiddleware(app.asgi_app, services=[FRILL], user=user)
    return app


def starlette_app():
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    return Starlette(middleware=[Middleware(asgi.IssuerMiddleware, services=[FRILL], user=user)])


def fastapi_app():
    from fastapi import FastAPI

    app = FastAPI()
    app.add_middleware(asgi.VerifierMiddleware, key=APPS_KEY)
    app.add_middleware(asgi.IssuerMiddleware, services=[FRILL], user=user)
    return app


def litestar_app():
    from litestar import Litestar

    from sso_middleware.extractors.litestar import issuer_plugin

    return Litestar(plugins=[issuer_plugin(services=[FRILL], user=user)], logging_config=None)


def litestar_listed():  # refused: Litestar would run it only for requests that match its routes
    from litestar import Litestar
    from litestar.middleware import DefineMiddleware

    return Litestar(middleware=[DefineMiddleware(asgi.VerifierMiddleware, key=APPS_KEY)], logging_config=None)


def falcon_app():
    import falcon

    return wsgi.IssuerMiddleware(falcon.App(), services=[FRILL], user=user)


def falcon_asgi_app():
    import falcon.asgi

    issuer = asgi.IssuerMiddleware(falcon.asgi.App(), services=[FRILL], user=user)
    return asgi.VerifierMiddleware(issuer, key=APPS_KEY)


def pyramid_app():
    from pyramid.config import Configurator

    return wsgi.IssuerMiddleware(Configurator().make_wsgi_app(), services=[FRILL], user=user)


def bottle_app():
    import bottle

    return wsgi.IssuerMiddleware(bottle.Bottle(), services=[FRILL], user=user)


def nested():
    """Our middleware under other wrappers: werkzeug's ProxyFix, a WhiteNoise-like `application`."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    class StaticFiles:  # keeps the app it serves around as `application`, as WhiteNoise does
        def __init__(self, application):
            self.application = application

        def __call__(self, environ, start_response):
            return self.application(environ, start_response)

    def app(environ, start_response):
        return []

    return ProxyFix(StaticFiles(wsgi.VerifierMiddleware(
        wsgi.IssuerMiddleware(app, services=[FRILL], user=user), key=APPS_KEY)))


