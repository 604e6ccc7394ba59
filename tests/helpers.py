"""What the tests share: keys, users, a real client per skin, the controllable clock, raw calls
that build a WSGI environ or an ASGI scope as servers do, and the docs' code blocks. Fixtures
live in conftest.py; test modules import from here, never from one another."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import httpx
from werkzeug.datastructures import Headers
from werkzeug.test import Client as WerkzeugClient

from sso_middleware import Key, asgi, wsgi

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




class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Form(HTMLParser):
    """An auto-submitting form read back independently of the library's own reader."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a["action"] or ""
        if tag == "input":
            self.fields[a["name"] or ""] = a["value"] or ""


# -- raw calls, as real servers build them (the parity corpus and the hardening tests) --------

Request = tuple[str, str, list[tuple[str, str]], bytes]
Answer = tuple[int, list[tuple[str, str]], bytes]


def _target(raw: str) -> tuple[bytes, str]:
    path, _, query = raw.partition("?")
    return unquote_to_bytes(path), query


def call_wsgi(app: Any, request: Request) -> Answer:
    method, raw, headers, body = request
    path, query = _target(raw)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path.decode("latin-1"),
        "QUERY_STRING": query, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "wsgi.version": (1, 0), "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in headers:  # servers join repeated headers (cookies with "; ")
        key = "HTTP_" + name.upper().replace("-", "_")
        joiner = "; " if name.lower() == "cookie" else ", "
        environ[key] = environ[key] + joiner + value if key in environ else value
    if body:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    started: list[Any] = []
    chunks = app(environ, lambda status, hs, exc=None: started.append((status, hs)))
    data = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    status, hs = started[0]
    return int(status.split()[0]), [(n.lower(), v) for n, v in hs], data


def call_asgi(app: Any, request: Request) -> Answer:
    method, raw, headers, body = request
    path, query = _target(raw)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path.decode("utf-8", "replace"), "raw_path": raw.partition("?")[0].encode(),
        "query_string": query.encode("latin-1"), "root_path": "", "server": ("localhost", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        + ([(b"content-type", b"application/x-www-form-urlencoded")] if body else [])
        + [(b"content-length", str(len(body)).encode())],
    }
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    data = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]], data


# -- data the redirect tests share ----------------------------------------------------------

DJANGO = json.loads((DATA / "django_redirect_cases.json").read_text())

PAYLOADS = [
    "https://evil.com",
    "https://feedback.acme.com.evil.com/",
    "https://evil.com/feedback.acme.com",
    "https://evil.com?feedback.acme.com",
    "https://evil.com#feedback.acme.com",
    "https://feedback.acme.com@evil.com/",
    "https://feedback.acme.com:pass@evil.com/",
    "https://evil.com\\@feedback.acme.com/",
    "https://evil.com%5c@feedback.acme.com/",
    "https://evil.com\\.feedback.acme.com/",
    "https://feedback.acme.com./",
    "https://FEEDBACK.acme.com.evil.com",
    "https://feedback.acme.com%2eevil.com/",
    "https://feedback%2eacme%2ecom/",
    "https://evil.com%23.feedback.acme.com/",
    "https://xn--feedbck-9ya.acme.com/",
    "https://feedbäck.acme.com/",
    "https://feedback.acme.com\t/",
    "https://feedback.acme.com\n.evil.com/",
    "https://feed\rback.acme.com/",
    " https://feedback.acme.com/",
    "https://feedback.acme.com /",
    "\thttps://feedback.acme.com/",
    "https:/feedback.acme.com/",
    "https:feedback.acme.com/",
    "https:///feedback.acme.com/",
    "https:\\\\feedback.acme.com/",
    "//feedback.acme.com/",
    "/\\feedback.acme.com/",
    "/\t/evil.com",
    " //evil.com",
    "http://feedback.acme.com/",
    "HTTP://feedback.acme.com/",
    "javascript://feedback.acme.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://feedback.acme.com/",
    "https://feedback.acme.com:8443/",
    "https://feedback.acme.com:0/",
    "https://feedback.acme.com:99999/",
    "https://feedback.acme.com:443:443/",
    "https://[feedback.acme.com]/",
    "https://frill.co/",
    "https://.frill.co/",
    "https://evil.co/.frill.co",
    "https://acme.frill.co.evil.com/",
    "https://127.0.0.1:8001/",
    "http://127.0.0.1:8000.evil.com/",
    "https://feedback.acme.com/" + "a" * 2100,
    "https://feedback.acme.com/\u2028",
    "https://feedback.acme.com/<script>",
    'https://feedback.acme.com/"onmouseover=',
    "",
]


# -- the README's and docs' code blocks ------------------------------------------------------

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ENV = {
    "FRILL_SSO_KEY": "frill-key-for-the-readme-0123456789abcdef",
    "INVOICED_SSO_KEY": "invoiced-key-for-the-readme-0123456789abc",
    "APPS_SSO_KEY": "apps-key-for-the-readme-0123456789abcdefgh",
    "SESSION_SECRET": "session-secret-for-the-readme-0123456789",
    "FLASK_SECRET_KEY": "flask-secret-for-the-readme-0123456789ab",
    "INTERCOM_SECRET": "intercom-secret-for-the-readme-012345678",
    "GRAFANA_PRIVATE_KEY": Key.generate("RS256").private_pem().decode(),
    "GRAFANA_OIDC_SECRET": "grafana-oidc-secret-for-the-readme-0123456789",
    "OIDC_PRIVATE_KEY": Key.generate("RS256").private_pem().decode(),
    "MINTLIFY_OIDC_SECRET": "mintlify-oidc-secret-for-the-recipe-0123456789",
    "TAILSCALE_OIDC_SECRET": "tailscale-oidc-secret-for-the-recipe-0123456789",
}

def blocks() -> dict[str, str]:
    """``{file name: code}`` for every Python block of the README and docs/."""
    found: dict[str, str] = {}
    for doc in DOCS:
        for code in re.findall(r"```python\n(.*?)```", doc.read_text(), re.S):
            first = code.splitlines()[0]
            assert first.startswith("# ") and first.split()[1].endswith(".py"), (
                f"{doc.name}: a Python block must start with '# <file>.py': {first!r}")
            name = first.split()[1]
            assert name not in found, f"two blocks are named {name}"
            found[name] = code
    return found


BLOCKS = blocks()
