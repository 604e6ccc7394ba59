"""The aiohttp skin on aiohttp's own server: the issuer's and verifier's behaviours, parity with the
ASGI skin on one corpus of raw requests, bytes no client should send, the wiring messages, and the
recipe of docs/recipes.md served by ``python -m aiohttp.web`` through a Frill and Invoiced round trip."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from helpers import BLOCKS, ENV, KEY, OTHER_KEY, USERS, Answer, Clock, Request, call_asgi, header_user
from servers import command_server

from sso_middleware import ConfigurationError, Service, asgi, services, wsgi
from sso_middleware import aiohttp as aio
from sso_middleware.extractors import aiohttp_session, aiohttp_user, scope_user
from sso_middleware.keys import Key
from sso_middleware.lint import lint
from sso_middleware.placements import FormField
from sso_middleware.principal import Principal
from sso_middleware.session import Sessions
from sso_middleware.testing import StandIn
from sso_middleware.tokens import sign

NOW = 1_800_000_000
BOARD = "https://feedback.acme.com/b/ideas"
FORM_KEY = "form-receiver-key-0123456789-abcdefghijk"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- aiohttp's own server, in a thread ------------------------------------------------------------


async def echo(request: web.Request) -> web.StreamResponse:
    """The app's handler: says who it thinks the user is, and what body it received."""
    user = request.get(aio.USER)
    return web.json_response({
        "path": request.path, "user": None if user is None else user.id,
        "principal": isinstance(user, Principal), "body": (await request.read()).decode("latin-1"),
    }, headers={"X-App": "untouched"})


def application(*middlewares: Any, handler: Handler = echo) -> web.Application:
    app = web.Application(middlewares=list(middlewares))
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@contextmanager
def aiohttp_server(app: web.Application) -> Iterator[str]:
    """Serve ``app`` with aiohttp's AppRunner on 127.0.0.1 (request lines up to 64 KiB, so long
    queries reach the middleware); yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, max_line_size=65536, max_field_size=65536)
    started = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(runner.addresses[0][1])
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "aiohttp did not start"
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def raw(url: str, request: Request) -> Answer:
    """Send ``request`` byte for byte (no client normalises its path) and read the answer."""
    method, target, headers, body = request
    lines = [f"{method} {target} HTTP/1.1", *(f"{n}: {v}" for n, v in headers)]
    if body:
        lines.append("Content-Type: application/x-www-form-urlencoded")
    lines.append(f"Content-Length: {len(body)}")
    host, _, port = url.rpartition(":")
    with socket.create_connection((host.removeprefix("http://"), int(port)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
        answer = sock.makefile("rb")
        status = int(answer.readline().split()[1])
        found: list[tuple[str, str]] = []
        while (line := answer.readline().rstrip(b"\r\n")):
            name, _, value = line.decode("latin-1").partition(":")
            found.append((name.lower(), value.strip()))
        length = int(dict(found).get("content-length", "0"))
        data = answer.read(length) if method != "HEAD" else b""
    return status, [(n, v) for n, v in found if n not in ("date", "server")], data


def browser(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10)


def frill() -> Service:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def invoiced() -> Service:
    return services.invoiced(key=OTHER_KEY, company="acme", customer_id=lambda u: u.attributes["invoiced_id"])


def token(**claims: Any) -> str:
    base = {"sub": "ada", "email": "ada@example.com", "name": "Ada", "iat": NOW, "exp": NOW + 120,
            "jti": "t1"}
    return sign({**base, **claims}, Key(KEY))


# -- the issuer ---------------------------------------------------------------------------------


@pytest.mark.network
def test_every_other_request_reaches_the_handler_untouched() -> None:
    issuer = aio.IssuerMiddleware(services=[frill()], user=header_user, login_url="/login")
    with aiohttp_server(application(issuer)) as url, browser(url) as client:
        page = client.post("/sso/frillx?redirect=x", content=b"a=1\xff", headers={"X-User": "ada"})
        assert page.status_code == 200 and page.headers["x-app"] == "untouched"
        assert page.json() == {"path": "/sso/frillx", "user": None, "principal": False, "body": "a=1\xff"}


@pytest.mark.parametrize("extractor", [
    pytest.param(header_user, id="sync"),
    pytest.param(lambda request: asyncio.sleep(0, header_user(request)), id="async"),
])
@pytest.mark.network
def test_a_signed_in_user_is_sent_to_the_service_with_a_token(extractor: Any) -> None:
    issuer = aio.IssuerMiddleware(services=[frill(), invoiced()], user=extractor, login_url="/login",
                                  clock=Clock(float(NOW)))
    stand_in = StandIn(frill(), clock=Clock(float(NOW)))
    with aiohttp_server(application(issuer)) as url, browser(url) as client:
        sent = client.get("/sso/frill", params={"redirect": BOARD}, headers={"X-User": "ada"})
        assert sent.status_code == 303 and sent.headers["cache-control"] == "no-store"
        claims = stand_in.follow(sent.headers["location"]).claims
        assert (claims["id"], claims["email"], claims["name"]) == (7, "ada@example.com", "Ada Lovelace")
        path = client.get("/sso/invoiced", headers={"X-User": "ada"}).headers["location"]
        assert path.startswith("https://acme.invoiced.com/login/eyJ")


@pytest.mark.network
def test_nobody_signed_in_is_sent_to_the_login_url_with_next() -> None:
    issuer = aio.IssuerMiddleware(services=[frill()], user=header_user, login_url="/login")
    with aiohttp_server(application(issuer)) as url, browser(url) as client:
        anonymous = client.get("/sso/frill", params={"redirect": BOARD})
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == (
            "/login?next=%2Fsso%2Ffrill%3Fredirect%3Dhttps%253A%252F%252Ffeedback.acme.com%252Fb%252Fideas")


@pytest.mark.network
def test_the_openid_providers_logout_hook_gets_aiohttps_request_and_webfinger_answers() -> None:
    """The provider's end_session hook is called as the extractor is, with aiohttp's own request
    (awaited when async); WebFinger is answered at the root."""
    from sso_middleware.oidc import Client, OpenIDProvider

    seen: list[Any] = []

    async def end_session(request: web.Request) -> list[tuple[str, str]]:
        form = await request.post()  # the sign-out form, read again
        seen.append((type(request).__name__, request.cookies.get("app"), sorted(form)))
        return [("Set-Cookie", "app=; Max-Age=0; Path=/")]

    provider = OpenIDProvider(
        issuer="http://localhost/sso", key=Key.generate("RS256"), end_session=end_session,
        webfinger_domains=["example.com"],
        clients=[Client("wiki", secret="wiki-oidc-secret-0123456789abcdef",
                        redirect_uris=["http://localhost/cb"],
                        post_logout_redirect_uris=["http://localhost/bye"])],
    )
    issuer = aio.IssuerMiddleware(services=[], user=header_user, login_url="/login", openid=provider)
    with aiohttp_server(application(issuer)) as url, browser(url) as client:
        query = {"client_id": "wiki", "post_logout_redirect_uri": "http://localhost/bye", "state": "z"}
        page = client.get("/sso/oidc/logout", params=query, headers={"X-User": "ada"})
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        assert page.status_code == 200 and "sso_logout" in fields and not seen
        client.cookies.set("app", "abc")
        same = {"X-User": "ada", "Sec-Fetch-Site": "same-origin"}
        done = client.post("/sso/oidc/logout", data=fields, headers=same)
        assert done.status_code == 303 and done.headers["location"] == "http://localhost/bye?state=z"
        assert seen == [("Request", "abc", sorted(fields))] and done.headers["set-cookie"].startswith("app=;")
        finger = client.get("/.well-known/webfinger", params={"resource": "acct:ada@example.com"})
        assert finger.json()["links"][0]["href"] == "http://localhost/sso"


@pytest.mark.parametrize("target", ["https://evil.com/b", "https://feedback.acme.com@evil.com/",
                                    "//evil.com"])
@pytest.mark.network
def test_a_return_url_off_the_list_is_a_400_without_a_token(target: str) -> None:
    issuer = aio.IssuerMiddleware(services=[frill()], user=header_user)
    with aiohttp_server(application(issuer)) as url, browser(url) as client:
        asked = {"X-User": "ada", "Accept": "application/json"}
        refused = client.get("/sso/frill", params={"redirect": target}, headers=asked)
        assert refused.status_code == 400 and refused.json()["error"] == "redirect_not_allowed"
        assert "location" not in refused.headers and "eyJ" not in refused.text


# -- the verifier -------------------------------------------------------------------------------


@pytest.mark.network
def test_the_verifier_signs_in_once_keeps_a_session_and_signs_out() -> None:
    verifier = aio.VerifierMiddleware(key=KEY, clock=Clock(float(NOW)))
    with aiohttp_server(application(verifier)) as url, browser(url) as client:
        signed_in = client.get("/sso", params={"token": token(), "next": "/dash"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dash"
        assert "HttpOnly" in signed_in.headers["set-cookie"]
        assert client.get("/dash").json()["user"] == "ada"  # request[USER]: the verified Principal
        assert client.get("/dash").json()["principal"] is True
        assert [login.principal.id for login in verifier.logins] == ["ada"]

        with browser(url) as stranger:  # the same token, from another browser: a replay
            replayed = stranger.get("/sso", params={"token": token()}, headers={"Accept": "application/json"})
            assert replayed.status_code == 401 and replayed.json()["error"] == "token_replayed"
            assert "set-cookie" not in replayed.headers
        assert client.get("/sso", params={"token": token()}).status_code == 303  # its own token, again

        cross = client.post("/sso/logout", headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403 and client.get("/").json()["user"] == "ada"
        old = dict(client.cookies)
        out = client.post("/sso/logout", headers={"Sec-Fetch-Site": "same-origin"})
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
        assert client.get("/").json()["user"] is None
        with browser(url) as copy:  # a copy of the cookie, kept: revoked, and cleared
            copy.cookies = httpx.Cookies(old)
            revoked = copy.get("/")
            assert revoked.json()["user"] is None and "Max-Age=0" in revoked.headers["set-cookie"]
            assert revoked.headers["x-app"] == "untouched"


@pytest.mark.network
def test_a_bad_cookie_is_cleared_also_on_a_response_the_handler_raises() -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther("/elsewhere")

    verifier = aio.VerifierMiddleware(key=KEY)
    with aiohttp_server(application(verifier, handler=moved)) as url, browser(url) as client:
        answer = client.get("/", headers={"Cookie": "sso_session=garbage"})
        assert answer.status_code == 303 and answer.headers["location"] == "/elsewhere"
        assert "Max-Age=0" in answer.headers["set-cookie"]


@pytest.mark.network
def test_the_verifier_hands_the_issuer_its_user() -> None:
    chain = [aio.VerifierMiddleware(key=OTHER_KEY, clock=Clock(float(NOW))),
             aio.IssuerMiddleware(services=[frill()], user=aiohttp_user, login_url="/sso",
                                  clock=Clock(float(NOW)))]
    with aiohttp_server(application(*chain)) as url, browser(url) as client:
        assert client.get("/sso/frill").headers["location"].startswith("/sso?next=")
        client.get("/sso", params={"token": sign({"sub": 3, "email": "c@x.org", "name": "C", "exp": NOW + 60},
                                                     Key(OTHER_KEY))})
        sent = client.get("/sso/frill", params={"redirect": BOARD}).headers["location"]
        claims = StandIn(frill(), clock=Clock(float(NOW))).follow(sent).claims
        assert (claims["id"], claims["email"]) == (3, "c@x.org")


# -- aiohttp_session --------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")  # aiohttp_session's keys
@pytest.mark.network
def test_aiohttp_session_reads_the_session_and_explains_a_missing_middleware() -> None:
    from aiohttp_session import SimpleCookieStorage, get_session, session_middleware

    async def login(request: web.Request) -> web.StreamResponse:
        (await get_session(request))["user"] = USERS["ada"]
        return web.Response(text="signed in")

    issuer = aio.IssuerMiddleware(services=[frill()], user=aiohttp_session("user"), login_url="/login")
    app = application(session_middleware(SimpleCookieStorage()), issuer, handler=login)
    with aiohttp_server(app) as url, browser(url) as client:
        assert client.get("/sso/frill", params={"redirect": BOARD}).headers["location"].startswith("/login")
        client.post("/login")
        sent = client.get("/sso/frill", params={"redirect": BOARD}).headers["location"]
        assert StandIn(frill()).follow(sent).claims["email"] == "ada@example.com"

    wrong_order = application(issuer, session_middleware(SimpleCookieStorage()))
    with aiohttp_server(wrong_order) as url, browser(url) as client:
        failed = client.get("/sso/frill", params={"redirect": BOARD}, headers={"Accept": "application/json"})
        assert failed.status_code == 500 and failed.json()["error"] == "configuration_error"


# -- wiring ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [wsgi, asgi], ids=["wsgi", "asgi"])
def test_an_aiohttp_application_given_to_the_other_skins_names_this_one(module: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"sso_middleware\.aiohttp\.IssuerMiddleware.*middlewares="):
        module.IssuerMiddleware(web.Application(), services=[frill()], user=header_user)
    with pytest.raises(ConfigurationError, match=r"use sso_middleware\.aiohttp\.VerifierMiddleware"):
        module.VerifierMiddleware(web.Application(), key=KEY)


def test_the_wrong_extractor_or_an_app_is_refused_in_aiohttp_terms() -> None:
    with pytest.raises(ConfigurationError, match=r"reads a Starlette request.*aiohttp_session\('user'\)"):
        aio.IssuerMiddleware(services=[frill()], user=scope_user)
    with pytest.raises(ConfigurationError, match=r"reads an aiohttp request.*sso_middleware\.aiohttp"):
        asgi.IssuerMiddleware(echo_asgi, services=[frill()], user=aiohttp_session("user"))
    with pytest.raises(ConfigurationError, match=r"web\.Application\(middlewares=\[\.\.\., IssuerMiddleware"):
        aio.IssuerMiddleware(web.Application(), services=[frill()], user=header_user)
    with pytest.raises(ConfigurationError, match="without one"):
        aio.VerifierMiddleware(echo_asgi, key=KEY)


async def echo_asgi(scope: Any, receive: Any, send: Any) -> None: ...


def test_check_finds_the_middleware_in_an_aiohttp_application() -> None:
    app = application(aio.VerifierMiddleware(key=OTHER_KEY), aio.IssuerMiddleware(
        services=[frill()], user=header_user))
    found = lint(app)
    assert any("/sso/frill" in line for line in found.seen) and any("receives /sso" in s for s in found.seen)


# -- bytes no client should send ------------------------------------------------------------------


@pytest.mark.parametrize("request_", [
    pytest.param(("GET", "/sso/%FF%FE?redirect=%FF", [("X-User", "ada")], b""), id="bad-utf8-path"),
    pytest.param(("GET", "/sso/frill?redirect=%FF%00", [("X-User", "ada")], b""), id="bad-utf8-query"),
    pytest.param(("GET", "/sso?token=%FF.%00.x", [("Cookie", "sso_session=\xff\xfe")], b""),
                 id="cookie-bytes"),
    pytest.param(("GET", "/", [("Cookie", "sso_session=\xff"), ("Cookie", "a=\x7f")], b""), id="cookies"),
    pytest.param(("POST", "/form", [("Accept", "\xff")], b"jwt=\xff\xfe\x00"), id="form-bytes"),
    pytest.param(("POST", "/form", [], b"jwt=" + b"x" * 70_000), id="form-too-large"),
    pytest.param(("POST", "/sso/logout", [("Origin", "\xff"), ("Host", "\xfe")], b"\xff"), id="logout"),
])
@pytest.mark.network
def test_no_exception_escapes_for_bytes_no_client_should_send(request_: Request) -> None:
    middlewares = [aio.VerifierMiddleware(key=KEY),
                   aio.VerifierMiddleware(key=FORM_KEY, path="/form", placement=FormField("jwt"),
                                          cookie_name="form_session"),
                   aio.IssuerMiddleware(services=[frill()], user=header_user, login_url="/login")]
    with aiohttp_server(application(*middlewares)) as url:
        status, _, body = raw(url, request_)
    assert status < 500, body


@pytest.mark.network
def test_a_body_cut_short_or_unparsable_raises_nothing(caplog: pytest.LogCaptureFixture) -> None:
    verifier = aio.VerifierMiddleware(key=FORM_KEY, path="/form", placement=FormField("jwt"))
    with aiohttp_server(application(verifier)) as url:
        host, _, port = url.removeprefix("http://").partition(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:  # aiohttp's parser refuses it
            sock.sendall(b"POST /form HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\njwt=a\r\nzz\r\n")  # a chunk size that is no number
            assert sock.recv(4096).split(b" ")[1] == b"400"
        caplog.clear()
        with socket.create_connection((host, int(port)), timeout=10) as sock:  # the client goes away
            sock.sendall(b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\njwt=a")
            sock.shutdown(socket.SHUT_WR)
            sock.recv(4096)  # (an answer nobody reads, or none)
    # the runner's cleanup waited for the request's handler
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text


# -- parity with the ASGI skin --------------------------------------------------------------------


def stack(clock: Clock) -> list[tuple[str, dict[str, Any]]]:
    """The same middleware for each skin, outermost first: four receivers, then an issuer."""
    return [
        ("VerifierMiddleware", {"key": KEY, "path": "/auth", "cookie_name": "a_session"}),
        ("VerifierMiddleware", {"service": frill(), "path": "/b", "cookie_name": "b_session"}),
        ("VerifierMiddleware", {"service": invoiced(), "path": "/c", "cookie_name": "c_session"}),
        ("VerifierMiddleware", {"key": FORM_KEY, "path": "/form", "placement": FormField("jwt"),
                                "cookie_name": "d_session"}),
        ("IssuerMiddleware", {"services": [frill(), invoiced(), services.zendesk(key=KEY, subdomain="acme")],
                              "user": header_user, "login_url": "/login"}),
    ]


def asgi_app(clock: Clock) -> Any:
    app: Any = passthrough_asgi
    for name, options in reversed(stack(clock)):
        app = getattr(asgi, name)(app, clock=clock, **options)
    return app


def aiohttp_app(clock: Clock) -> web.Application:
    middlewares = [getattr(aio, name)(clock=clock, **options) for name, options in stack(clock)]
    return application(*middlewares, handler=passthrough_aiohttp)


def _page(user_id: object) -> bytes:
    return json.dumps({"passed": True, "user": user_id}).encode()


async def passthrough_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    found = scope.get("user")
    body = _page(found.identity if found is not None and found.is_authenticated else None)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"x-passed", b"1")]})
    await send({"type": "http.response.body", "body": body})


async def passthrough_aiohttp(request: web.Request) -> web.StreamResponse:
    found = request.get(aio.USER)
    return web.Response(body=_page(None if found is None else str(found.id)), content_type="application/json",
                        headers={"X-Passed": "1"})


def session(name: str, key: str, service: str) -> str:
    cookie = Sessions(Key(Key(key).derive("session")), cookie_name=name).open(
        Principal("ada", "ada@example.com", "Ada"), service, NOW, False)
    return cookie.split(";", 1)[0]


def corpus() -> list[Request]:
    good_a, good_b, good_d = token(jti="a1"), token(jti="b1"), sign(
        {"sub": "ada", "iat": NOW, "exp": NOW + 60, "jti": "d1"}, Key(FORM_KEY))
    good_c = sign({"sub": 1234, "iss": "x", "exp": NOW + 60, "jti": "c1"}, Key(OTHER_KEY))
    paths = ["/", "/x", "/sso/frill", "/sso/invoiced", "/sso/zendesk", "/sso/nope", "/auth", "/auth/logout",
             "/b/logout", "/login/", f"/login/{good_c}", "//evil.com/", "/%2F%2Fevil.com/", "/caf%C3%A9",
             "/%FF", "/sso%2Ffrill", "/form"]
    queries = ["", "redirect=https%3A%2F%2Ffeedback.acme.com%2Fb%3Fx%3D1", "redirect=https://evil.com/",
               "redirect=a&redirect=b", f"token={good_a}", f"token={good_a}&next=/dash",
               "token=junk.junk.junk",
               f"token={token(exp=NOW - 3600, jti='x1')}", f"ssoToken={good_b}", "return_to=%2Fq%2F1",
               "q=" + "%" * 9000]
    people: list[list[tuple[str, str]]] = [
        [], [("X-User", "ada")], [("X-User", "ada"), ("Accept", "application/json")],
        [("X-User", "ada"), ("Sec-Fetch-Site", "same-origin")], [("Sec-Fetch-Site", "cross-site")]]
    people = [[("Host", "localhost"), *headers] for headers in people]  # HTTP/1.1 requires it (aiohttp too)
    requests: list[Request] = []
    for path, query, headers in itertools.product(paths, queries, people[:2]):
        requests.append(("GET", f"{path}?{query}" if query else path, headers, b""))
    for method, path, headers in itertools.product(["HEAD", "POST", "PUT"], paths, people[2:]):
        requests.append((method, path, headers, b""))
    for path, body in itertools.product(["/form", "/auth/logout", "/x"], [
            b"", f"jwt={good_d}".encode(), f"jwt={good_d}".encode(), b"jwt=a&jwt=b", b"jwt=" + b"x" * 20_000,
            b"\xff\xfe"]):
        requests.append(("POST", path, people[2], body))
    cookies = [session("a_session", KEY, "sso"), session("b_session", KEY, "frill"), "a_session=garbage",
               session("a_session", KEY, "sso") + "; a_session=other", session("a_session", OTHER_KEY, "sso"),
               "theme=dark"]
    for path, cookie in itertools.product(["/", "/auth/logout", "/sso/frill"], cookies):
        requests.append(("GET", path, [*people[0], ("Cookie", cookie)], b""))
        requests.append(("GET", path, [*people[0], ("Cookie", "theme=dark"), ("Cookie", cookie)], b""))
        same_origin = [*people[0], ("Cookie", cookie), ("Sec-Fetch-Site", "same-origin")]
        requests.append(("POST", path, same_origin, b""))
    return requests


def comparable(answer: Answer, method: str) -> tuple[int, Sequence[tuple[str, str]], bytes]:
    """An answer of the middleware, whole (server headers aside); the handler's, status, body and
    the cookies the verifier added (each skin's app sets its own Content-Type). A server sends no
    body to a HEAD (the ASGI call collects what the app wrote)."""
    status, headers, body = answer
    if ("x-passed", "1") in headers:
        cookies = sorted((n, v) for n, v in headers if n == "set-cookie")
        return status, cookies, b"" if method == "HEAD" else body
    return status, sorted(headers), body


@pytest.mark.network
def test_the_aiohttp_skin_answers_the_corpus_as_the_asgi_skin(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()

    class Counting:
        @staticmethod
        def token_urlsafe(n: int = 16) -> str:
            return f"id-{next(counter):08d}"

    monkeypatch.setattr("sso_middleware.service.secrets", Counting)
    monkeypatch.setattr("sso_middleware.session.secrets", Counting)
    requests = corpus()
    counter = itertools.count()  # each skin from the same count
    app = asgi_app(Clock(float(NOW)))
    expected = [comparable(call_asgi(app, request), request[0]) for request in requests]
    counter = itertools.count()
    with aiohttp_server(aiohttp_app(Clock(float(NOW)))) as url:
        answers = [comparable(raw(url, request), request[0]) for request in requests]
    assert len(requests) >= 400
    for request, want, got in zip(requests, expected, answers, strict=True):
        assert got == want, request
    statuses = {status for status, _, _ in answers}
    assert {200, 303, 400, 403, 405} <= statuses  # the corpus reaches every kind of answer
    assert sum(1 for _, headers, _ in answers if any(n == "set-cookie" for n, _ in headers)) >= 10


# -- the recipe, on aiohttp's own server ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.network
def test_the_aiohttp_recipe_on_aiohttp_web(tmp_path: Path) -> None:
    (tmp_path / "aiohttp_app.py").write_text(BLOCKS["aiohttp_app.py"])
    server = ["aiohttp.web", "-H", "127.0.0.1", "-P", "{port}", "aiohttp_app:init_app"]
    with command_server(server, tmp_path, env=ENV) as url, httpx.Client(base_url=url, timeout=30) as client:
        anonymous = client.get("/sso/frill", params={"redirect": BOARD})
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
        assert client.post("/login", data={"user": "ada"}).status_code == 303  # aiohttp_session's cookie
        frill_in = StandIn(services.frill(key=ENV["FRILL_SSO_KEY"], hosts=["feedback.acme.com"]))
        sent = client.get("/sso/frill", params={"redirect": BOARD})
        claims = frill_in.follow(sent.headers["location"]).claims
        assert (claims["id"], claims["email"], claims["name"]) == (1, "ada@example.com", "Ada Lovelace")
        invoiced_in = StandIn(services.invoiced(key=ENV["INVOICED_SSO_KEY"], company="acme"))
        sub = invoiced_in.follow(client.get("/sso/invoiced").headers["location"]).claims["sub"]
        assert sub == 1 and type(sub) is int  # Invoiced's customer id stays an integer

    # signed in by the main app instead (the verifier), then on to Frill
    with command_server(server, tmp_path, env=ENV) as url, httpx.Client(base_url=url, timeout=30) as client:
        grace = {"sub": 2, "email": "grace@example.com", "name": "Grace Hopper"}
        minted = sign({**grace, "exp": int(time.time()) + 60, "jti": "g1"}, Key(ENV["APPS_SSO_KEY"]))
        arrived = client.get("/sso", params={"token": minted})
        assert arrived.status_code == 303 and client.get("/me").json() == {"name": "Grace Hopper"}
        frill_in = StandIn(services.frill(key=ENV["FRILL_SSO_KEY"], hosts=["feedback.acme.com"]))
        sent = client.get("/sso/frill", params={"redirect": BOARD})
        claims = frill_in.follow(sent.headers["location"]).claims
        assert (claims["id"], claims["email"]) == (2, "grace@example.com")


def test_on_a_sub_application_the_paths_are_the_full_ones() -> None:
    docs = application(aio.VerifierMiddleware(key=KEY, path="/docs/sso", clock=Clock(float(NOW))),
                       aio.IssuerMiddleware(services=[frill()], user=header_user, prefix="/docs/sso",
                                            login_url="/login"))
    root = web.Application()
    root.add_subapp("/docs", docs)
    with aiohttp_server(root) as url, browser(url) as client:
        anonymous = client.get("/docs/sso/frill").headers["location"]
        assert anonymous.startswith("/login?next=%2Fdocs%2Fsso%2Ffrill")
        assert client.get("/docs/sso", params={"token": token()}).status_code == 303
        assert client.get("/docs/page").json()["user"] == "ada"
