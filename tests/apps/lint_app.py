"""Apps for `sso-middleware check`: `bad` has a mistake of each kind the constructors cannot refuse,
`good` has none."""

from sso_middleware import services
from sso_middleware.wsgi import IssuerMiddleware, VerifierMiddleware

KEY = "frill-board-key-0123456789abcdefghijklmnop"


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def user(request):
    return None


bad = IssuerMiddleware(
    VerifierMiddleware(app, service=services.frill(key=KEY, hosts=["feedback.acme.com"])),  # same key
    services=[
        services.frill(key=KEY, hosts=["*.frill.co"]),  # any Frill customer's board
        services.zendesk(key="zendesk-key-0123456789abcdefghijklmnopq", subdomain="acme", ttl=300),
    ],
    user=user,
)
good = IssuerMiddleware(app, services=[services.frill(key=KEY, hosts=["acme.frill.co"])], user=user)
memory = VerifierMiddleware(app, key="apps-key-0123456789abcdefghijklmnopqr")
