"""One behaviour suite, two skins: every HTTP test gets a ``skin`` and runs on WSGI and ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import Client as WerkzeugClient

from sso_middleware import asgi, wsgi

collect_ignore = ["typing", "apps"]  # user files that mypy checks (test_typing.py) and apps the tests run

KEY = "frill-test-key-0123456789-abcdefghijklmnop"  # >= 32 bytes
OTHER_KEY = "invoiced-test-key-0123456789-abcdefghijkl"
DATA = Path(__file__).parent / "data"

USERS: dict[str, dict[str, Any]] = {
    "ada": {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace", "invoiced_id": 1234},
    "bob": {"id": "u-2", "email": None, "name": "Bob"},
}


def vectors() -> dict[str, Any]:
    return json.loads((DATA / "jwt_vectors.json").read_text())  # type: ignore[no-any-return]


def header_user(request: Any) -> dict[str, Any] | None:
    """Test extractor: the user named in the X-User header (works on both request types)."""
    return USERS.get(request.headers.get("x-user", ""))


@dataclass
class Result:
    status: int
    headers: Headers
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def json(self) -> Any:
        return json.loads(self.text)


class _Client:
    """A real client for one skin; cookies persist across requests, redirects are not followed."""

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | bytes | None = None,
        root_path: str = "",
        https: bool = False,
    ) -> Result:
        return self._send(method, url, headers or {}, data, root_path, "https" if https else "http")

    def get(self, url: str, **kwargs: Any) -> Result:
        return self.request("GET", url, **kwargs)

    def stranger(self) -> Client:
        """Another browser on the same app: no cookies (a replay from there is refused, while
        this browser, signed in by that very token, continues)."""
        return type(self)(self.app)  # type: ignore[arg-type]

    def _send(self, method: str, url: str, headers: dict[str, str], data: Any, root_path: str,
              scheme: str) -> Result:
        raise NotImplementedError


class WSGIClient(_Client):
    """werkzeug's test client."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._client = WerkzeugClient(app)

    def _send(self, method: str, url: str, headers: dict[str, str], data: Any, root_path: str,
              scheme: str) -> Result:
        response = self._client.open(url, method=method, headers=headers, data=data,
                                     base_url=f"{scheme}://localhost{root_path}")
        return Result(response.status_code, Headers(response.headers), response.get_data(True))

    def cookie(self, name: str) -> str | None:
        c = self._client.get_cookie(name)
        return c.value if c else None

    def set_cookie(self, name: str, value: str) -> None:
        self._client.set_cookie(name, value)


class ASGIClient(_Client):
    """httpx over ASGITransport."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies = httpx.Cookies()

    def _send(self, method: str, url: str, headers: dict[str, str], data: Any, root_path: str,
              scheme: str) -> Result:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, root_path=root_path)
            async with httpx.AsyncClient(
                transport=transport, base_url=f"{scheme}://localhost", cookies=self.cookies
            ) as client:
                body = {"content": data} if isinstance(data, bytes) else {"data": data}
                response = await client.request(method, root_path + url, headers=headers, **body)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        response = asyncio.run(go())
        return Result(response.status_code, Headers(list(response.headers.multi_items())), response.text)

    def cookie(self, name: str) -> str | None:
        return self.cookies.get(name)

    def set_cookie(self, name: str, value: str) -> None:
        self.cookies.delete(name)
        self.cookies.set(name, value, domain="localhost.local")


Client = WSGIClient | ASGIClient


def wsgi_echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The wrapped app: says who it thinks the user is."""
    body = json.dumps(
        {"path": environ.get("PATH_INFO"), "user": environ.get("REMOTE_USER")}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


async def asgi_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        return
    user = scope.get("user")
    name = user.identity if user is not None and user.is_authenticated else None
    body = json.dumps({"path": scope["path"], "user": name}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class Skin:
    """Builds middleware and a real client for one protocol."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.module = wsgi if name == "wsgi" else asgi
        self.echo = wsgi_echo if name == "wsgi" else asgi_echo

    def client(self, app: Any) -> Client:
        return WSGIClient(app) if self.name == "wsgi" else ASGIClient(app)

    def issuer(self, app: Any = None, **options: Any) -> Client:
        options.setdefault("user", header_user)
        return self.client(self.module.IssuerMiddleware(app or self.echo, **options))

    def verifier(self, app: Any = None, **options: Any) -> tuple[Any, Client]:
        middleware = self.module.VerifierMiddleware(app or self.echo, **options)
        return middleware, self.client(middleware)


@pytest.fixture(params=["wsgi", "asgi"])
def skin(request: pytest.FixtureRequest) -> Iterator[Skin]:
    yield Skin(request.param)


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()
