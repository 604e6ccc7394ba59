"""The app the load test serves with uvicorn: issuer and a Frill stand-in verifier, one server."""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sso_middleware import services
from sso_middleware.asgi import IssuerMiddleware, VerifierMiddleware
from sso_middleware.replay import MemoryReplayStore

KEY = "load-test-frill-key-0123456789-abcdefghijk"
HOST = f"127.0.0.1:{os.environ.get('SSO_BENCH_PORT', '8000')}"


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello")


async def board(request: Request) -> Response:
    user = request.user
    return PlainTextResponse(f"board for {user.display_name}" if user.is_authenticated else "anonymous")


def current_user(request: Request) -> dict[str, Any] | None:
    name = request.headers.get("x-user")
    return {"id": name, "email": f"{name}@example.com", "name": name} if name else None


inner = Starlette(routes=[Route("/hello", hello), Route("/board/", board)])
stand_in = VerifierMiddleware(
    inner, service=services.frill(key=KEY, hosts=[HOST]), strict=True,  # our tokens carry exp
    replay_store=MemoryReplayStore(max_entries=1_000_000),
)
app = IssuerMiddleware(
    stand_in,
    services=[services.frill(key=KEY, hosts=[HOST], default_redirect=f"http://{HOST}/board/")],
    user=current_user,
)
