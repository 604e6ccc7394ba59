"""Apps for `sso-middleware check` on an OpenID Connect provider: `bad` has a mistake of each kind the
constructors cannot refuse (a plain-http issuer, a wildcard and a plain-http redirect URI, codes in
memory under several workers); `good` has none."""

import os

from sso_middleware.keys import Key
from sso_middleware.oidc import Client, OpenIDProvider
from sso_middleware.wsgi import IssuerMiddleware

KEY = Key.generate("RS256")
SECRET = "grafana-client-secret-0123456789abcdef"


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def user(request):
    return None


bad = IssuerMiddleware(app, services=[], user=user, login_url="/login", openid=OpenIDProvider(
    issuer="http://localhost:8000/sso", key=KEY,
    clients=[Client("grafana", secret=SECRET, redirect_uris=["https://*.grafana.acme.com/login/generic_oauth",
                                                             "http://localhost:3000/login/generic_oauth"])],
))
good = IssuerMiddleware(app, services=[], user=user, login_url="/login", openid=OpenIDProvider(
    issuer="https://app.acme.com/sso", key=KEY,
    clients=[Client("grafana", secret=SECRET, redirect_uris=["https://grafana.acme.com/login/generic_oauth"])],
))
# logout URIs with no logout endpoint (no end_session=), a wildcard among them, and WebFinger for an email
# domain whose site is not this app's host
logout = IssuerMiddleware(app, services=[], user=user, login_url="/login", openid=OpenIDProvider(
    issuer="https://app.acme.com/sso", key=KEY, webfinger_domains=["acme.com"],
    clients=[Client("grafana", secret=SECRET, redirect_uris=["https://grafana.acme.com/login/generic_oauth"],
                    post_logout_redirect_uris=["https://*.grafana.acme.com/login"])],
))
if os.environ.get("OIDC_LINT_REDIS"):  # the fix for several workers, without a server to talk to
    import redis

    from sso_middleware.redis_store import RedisReplayStore

    good.openid.replay_store = RedisReplayStore(redis.Redis())
