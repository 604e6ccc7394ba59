"""A user's file that touches every public entry point; `mypy --strict` must pass on it."""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware

from sso_middleware import (
    ConfigurationError,
    Key,
    Login,
    MemoryReplayStore,
    Principal,
    RedisReplayStore,
    Service,
    SSOError,
    asgi,
    services,
    wsgi,
)
from sso_middleware.extractors import django_user, remote_user, scope_user, session_key
from sso_middleware.placements import FormField, PathSegment, QueryParameter
from sso_middleware.services import Destination, ReturnRules, TokenRules
from sso_middleware.testing import StandIn, StandInRefused

KEY = "a-secret-of-at-least-thirty-two-bytes!"


def claims(user: Principal) -> dict[str, Any]:
    return {"sub": user.id, "email": user.email}


every: list[Service] = [
    services.frill(key=KEY, hosts=["feedback.acme.com"]),
    services.invoiced(key=KEY, company="acme", customer_id=lambda user: user.attributes["invoiced_id"]),
    services.zendesk(key=KEY, subdomain="acme"),
    services.canny(key=KEY),
    services.featurebase(key=KEY, organization="acme"),
    services.helpscout(key=Key("h" * 64, algorithm="HS512"), site="https://docs.acme.com"),
    services.generic(
        name="docs",
        key=KEY,
        token=TokenRules(claims=claims, required=("sub",), ttl=120),
        destination=Destination("https://docs.acme.com/auth", QueryParameter("token")),
        returns=ReturnRules("returnTo", forward_as="returnTo", relative=True),
    ),
]
placements = [QueryParameter("jwt"), PathSegment(), FormField("jwt")]

flask_app = Flask(__name__)
flask_app.wsgi_app = wsgi.IssuerMiddleware(  # type: ignore[method-assign]
    flask_app.wsgi_app, services=every, user=remote_user, login_url="/login"
)
flask_app.wsgi_app = wsgi.VerifierMiddleware(  # type: ignore[method-assign]
    flask_app.wsgi_app, key=KEY, replay_store=RedisReplayStore(redis.Redis()), on_login=print
)
wsgi.IssuerMiddleware(flask_app.wsgi_app, services=every[:1], user=django_user)

starlette_app = Starlette(middleware=[
    Middleware(asgi.VerifierMiddleware, service=every[0], replay_store=MemoryReplayStore()),
    Middleware(asgi.IssuerMiddleware, services=every, user=scope_user),
])
starlette_app.add_middleware(asgi.IssuerMiddleware, services=every, user=session_key("user"))


def recorded(login: Login) -> str:
    return f"{login.service} {login.principal.id} {login.at}"


def user_of(user: asgi.SSOUser) -> tuple[Any, str | None, str | None]:
    return user.id, user.email, user.name


def refused(stand_in: StandIn, response: Any) -> str:
    try:
        stand_in.follow(response)
    except StandInRefused as e:
        return e.code
    except (ConfigurationError, SSOError) as e:
        return e.code
    return ""
