"""A user's file with a misspelled option: `mypy --strict` must catch it."""

from starlette.applications import Starlette
from starlette.middleware import Middleware

from sso_middleware import services
from sso_middleware.asgi import IssuerMiddleware, VerifierMiddleware
from sso_middleware.extractors import scope_user

frill = services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"])
app = Starlette(
    middleware=[Middleware(IssuerMiddleware, services=[frill], user=scope_user, login_ulr="/login")]
)
VerifierMiddleware(app, key="a-secret-of-at-least-thirty-two-bytes!", cookie_nmae="x")
