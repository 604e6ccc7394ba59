"""The apps measured, each beside the baseline it is compared with, and direct drivers for them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import jwt
from flask import Flask, redirect, request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from sso_middleware import asgi, services, wsgi
from sso_middleware.keys import Key
from sso_middleware.replay import MemoryReplayStore
from sso_middleware.tokens import sign

KEY = "benchmark-frill-key-0123456789-abcdefghijk"
SESSION_SECRET = "benchmark-session-secret-0123456789abcdef"
BOARD = "https://feedback.acme.com/b/roadmap"
USER = {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"}


def frill() -> Any:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def many_services(n: int) -> list[Any]:
    return [frill()] + [
        services.generic(name=f"svc{i}", key=KEY, token=services.TokenRules(claims=lambda u: {"sub": u.id}),
                         destination=services.Destination(f"https://s{i}.example.com/sso"))
        for i in range(n - 1)
    ]


def user(_request: Any) -> dict[str, Any]:
    return USER


# -- drivers: call an app directly, as a server would, without a client in the way -----------


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Any) -> None:
    return None


def asgi_call(app: Any, path: str, query: str = "", headers: list[tuple[bytes, bytes]] | None = None,
              ) -> Callable[[], Awaitable[None]]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": headers or [(b"host", b"bench")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }

    async def call() -> None:
        await app(dict(scope), _receive, _send)

    return call


def asgi_call_tokens(app: Any, path: str, tokens: Iterator[str]) -> Callable[[], Awaitable[None]]:
    """Each call presents the next token (one-time tokens cannot be replayed)."""

    async def call() -> None:
        await asgi_call(app, path, f"token={next(tokens)}")()

    return call


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
    return None


def wsgi_call(app: Any, path: str, query: str = "", headers: dict[str, str] | None = None,
              ) -> Callable[[], None]:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, query_string=query, headers=headers).get_environ()

    def call() -> None:
        body = app(dict(environ), _start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    return call


# -- the apps -------------------------------------------------------------------------------


async def raw_asgi(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def raw_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


async def _hello(request: Request) -> Response:
    return PlainTextResponse("hello")


def starlette_hello() -> Starlette:
    return Starlette(routes=[Route("/hello", _hello)])


def flask_hello() -> Flask:
    app = Flask("bench")
    app.add_url_rule("/hello", "hello", lambda: "hello")
    return app


def starlette_vendor_snippet() -> Starlette:
    """What the vendors' docs show: sign with jwt.encode, redirect (no return-URL check)."""

    async def sso(request: Request) -> Response:
        data = user(request)
        now = int(time.time())
        token = jwt.encode({**data, "iat": now, "exp": now + 300}, KEY, algorithm="HS256")
        target = request.query_params.get("redirect", "https://feedback.acme.com/")
        return RedirectResponse(f"{target}?ssoToken={token}", status_code=302)

    return Starlette(routes=[Route("/hello", _hello), Route("/sso/frill", sso)])


def flask_vendor_snippet() -> Flask:
    app = flask_hello()

    def sso() -> Any:
        now = int(time.time())
        token = jwt.encode({**USER, "iat": now, "exp": now + 300}, KEY, algorithm="HS256")
        target = request.args.get("redirect", "https://feedback.acme.com/")
        return redirect(f"{target}?ssoToken={token}", 302)

    app.add_url_rule("/sso/frill", "sso", sso)
    return app


# The same work as the issuer does on a login, written as a route the usual way: the same claims
# (a jti too), the four headers every reply carrying a token has, the redirect with the token.
SAME_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff"}


def _same_claims() -> dict[str, Any]:
    now = int(time.time())
    return {**USER, "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(16)}


def starlette_same_work() -> Starlette:
    """The issuer's work as a Starlette route: claims with a jti, jwt.encode, the headers, redirect."""

    async def sso(request: Request) -> Response:
        token = jwt.encode({**user(request), **_same_claims()}, KEY, algorithm="HS256")
        target = request.query_params.get("redirect", "https://feedback.acme.com/")
        return RedirectResponse(f"{target}?ssoToken={token}", status_code=303, headers=SAME_HEADERS)

    return Starlette(routes=[Route("/hello", _hello), Route("/sso/frill", sso)])


def flask_same_work() -> Flask:
    """The issuer's work as a Flask view: claims with a jti, jwt.encode, the headers, redirect."""
    app = flask_hello()

    def sso() -> Any:
        token = jwt.encode({**USER, **_same_claims()}, KEY, algorithm="HS256")
        target = request.args.get("redirect", "https://feedback.acme.com/")
        response = redirect(f"{target}?ssoToken={token}", 303)
        response.headers.update(SAME_HEADERS)
        return response

    app.add_url_rule("/sso/frill", "sso", sso)
    return app


def starlette_hand_verifier() -> Starlette:
    """A hand-written receiving route: jwt.decode, then Starlette's signed session cookie."""

    async def receive_sso(request: Request) -> Response:
        claims = jwt.decode(request.query_params["token"], KEY, algorithms=["HS256"])
        request.session["user"] = {"id": claims["id"], "email": claims["email"]}
        return RedirectResponse("/", status_code=303)

    return Starlette(
        routes=[Route("/hello", _hello), Route("/sso", receive_sso)],
        middleware=[Middleware(SessionMiddleware, secret_key=SESSION_SECRET)],
    )


def fresh_tokens(count: int, prefix: str = "bench") -> Iterator[str]:
    """``count`` tokens, each with its own ``jti`` (``{prefix}-{i}``: give each batch its own prefix)."""
    key = Key(KEY)
    now = int(time.time())
    return iter([
        sign({**USER, "iat": now, "exp": now + 3600, "jti": f"{prefix}-{i}"}, key) for i in range(count)
    ])


def asgi_issuer(app: Any, n_services: int = 2) -> Any:
    return asgi.IssuerMiddleware(app, services=many_services(n_services), user=user)


def wsgi_issuer(app: Any, n_services: int = 2) -> Any:
    return wsgi.IssuerMiddleware(app, services=many_services(n_services), user=user)


def asgi_verifier(app: Any) -> Any:
    return asgi.VerifierMiddleware(app, key=KEY, replay_store=MemoryReplayStore(max_entries=10**7))


def wsgi_verifier(app: Any) -> Any:
    return wsgi.VerifierMiddleware(app, key=KEY, replay_store=MemoryReplayStore(max_entries=10**7))


def session_cookie() -> str:
    """A valid session cookie for any verifier keyed with KEY (by logging in once)."""
    token = sign({**USER, "iat": int(time.time()), "exp": int(time.time()) + 3600,
                  "jti": "bench-cookie-login"}, Key(KEY))
    from werkzeug.test import Client

    reply = Client(wsgi.VerifierMiddleware(lambda e, s: [], key=KEY)).get(f"/sso?token={token}")
    return reply.headers["Set-Cookie"].split(";", 1)[0]

