"""Framework apps built the way the README and docs/recipes.md describe: Starlette, FastAPI, Flask."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import jwt as pyjwt
from flask import Flask, session
from helpers import KEY, OTHER_KEY
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sso_middleware import services
from sso_middleware.asgi import IssuerMiddleware as ASGIIssuer
from sso_middleware.extractors import remote_user, scope_user, session_key
from sso_middleware.wsgi import IssuerMiddleware as WSGIIssuer

SECRET = "session-secret-0123456789abcdef0123456789"
BOARD = "https://feedback.acme.com/b/ideas"
SERVICES = [
    services.frill(key=KEY, hosts=["feedback.acme.com"]),
    services.invoiced(key=OTHER_KEY, company="acme", customer_id=lambda user: user.id),
]


def frill_claims(location: str) -> dict[str, Any]:
    token = parse_qs(urlsplit(location).query)["ssoToken"][0]
    return pyjwt.decode(token, KEY, algorithms=["HS256"])


# -- Starlette: SessionMiddleware + AuthenticationMiddleware ----------------------------


class AppUser(SimpleUser):
    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data["name"])
        self.id = data["id"]
        self.email = data["email"]
        self.name = data["name"]


class SessionBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AppUser] | None:
        data = conn.session.get("user")
        return (AuthCredentials(["authenticated"]), AppUser(data)) if data else None


async def login(request: Request) -> PlainTextResponse:
    request.session["user"] = {"id": 42, "email": "ada@example.com", "name": "Ada"}
    return PlainTextResponse("ok")


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"home of {request.user.display_name or 'nobody'}")


def starlette_app(extractor: Any) -> Starlette:
    return Starlette(
        routes=[Route("/login", login, methods=["POST"]), Route("/", home)],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(AuthenticationMiddleware, backend=SessionBackend()),
            Middleware(ASGIIssuer, services=SERVICES, user=extractor, login_url="/login"),
        ],
    )


async def _starlette_flow(app: Starlette) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        before = await client.get(f"/sso/frill?redirect={quote(BOARD)}")
        await client.post("/login")
        after = await client.get(f"/sso/frill?redirect={quote(BOARD)}")
        home_page = await client.get("/")
        return [before, after, home_page]


def test_starlette_with_scope_user() -> None:
    before, after, home_page = asyncio.run(_starlette_flow(starlette_app(scope_user)))
    assert before.status_code == 303 and before.headers["location"].startswith("/login?next=")
    assert after.status_code == 303
    claims = frill_claims(after.headers["location"])
    assert (claims["id"], claims["email"], claims["name"]) == (42, "ada@example.com", "Ada")
    assert home_page.text == "home of Ada"  # the app itself is untouched


def test_starlette_with_session_key() -> None:
    _, after, _ = asyncio.run(_starlette_flow(starlette_app(session_key("user"))))
    assert frill_claims(after.headers["location"])["id"] == 42


def test_fastapi_app() -> None:
    from fastapi import FastAPI

    api = FastAPI()

    @api.get("/")
    def index() -> dict[str, str]:
        return {"hello": "world"}

    async def current_user(request: Request) -> dict[str, Any] | None:
        token = request.headers.get("authorization")
        return {"id": "u1", "email": "u1@example.com", "name": "U One"} if token else None

    api.add_middleware(ASGIIssuer, services=SERVICES, user=current_user)

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (
                await client.get("/"),
                await client.get("/sso/invoiced", headers={"Authorization": "x"}),
                await client.get("/sso/invoiced"),
            )

    index_page, sso, anonymous = asyncio.run(go())
    assert index_page.json() == {"hello": "world"}
    token = sso.headers["location"].rsplit("/", 1)[1]
    assert pyjwt.decode(token, OTHER_KEY, algorithms=["HS256"])["sub"] == "u1"
    assert anonymous.status_code == 401


# -- Flask ------------------------------------------------------------------------------


def flask_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET

    @app.post("/login")
    def do_login() -> str:
        session["user"] = {"id": 5, "email": "grace@example.com", "name": "Grace"}
        return "ok"

    @app.get("/")
    def index() -> str:
        return "flask home"

    return app


def test_flask_with_remote_user() -> None:
    app = flask_app()
    app.wsgi_app = WSGIIssuer(app.wsgi_app, services=SERVICES, user=remote_user)  # type: ignore[method-assign]
    client = app.test_client()
    r = client.get("/sso/frill", environ_base={"REMOTE_USER": "ada"})
    assert r.status_code == 400  # REMOTE_USER has no email: Frill needs one
    r = client.get("/sso/invoiced", environ_base={"REMOTE_USER": "ada"})
    token = r.headers["Location"].rsplit("/", 1)[1]
    assert pyjwt.decode(token, OTHER_KEY, algorithms=["HS256"])["sub"] == "ada"
    assert client.get("/").get_data(as_text=True) == "flask home"


def test_flask_with_its_own_session() -> None:
    app = flask_app()

    def flask_user(request: Any) -> Any:
        # Flask's signed session cookie, read through Flask's own session interface.
        return app.session_interface.open_session(app, request).get("user")  # type: ignore[union-attr]

    app.wsgi_app = WSGIIssuer(  # type: ignore[method-assign]
        app.wsgi_app, services=SERVICES, user=flask_user, login_url="/login"
    )
    client = app.test_client()
    assert client.get("/sso/frill").headers["Location"] == "/login?next=%2Fsso%2Ffrill"
    client.post("/login")
    r = client.get(f"/sso/frill?redirect={quote(BOARD)}")
    claims = frill_claims(r.headers["Location"])
    assert (claims["id"], claims["email"]) == (5, "grace@example.com")
