from __future__ import annotations

import asyncio
import threading
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from helpers import KEY, OTHER_KEY, Clock, Skin, vectors, wsgi_echo

from sso_middleware import ConfigurationError, services, wsgi
from sso_middleware.keys import Key
from sso_middleware.placements import FormField, PathSegment
from sso_middleware.replay import MemoryReplayStore
from sso_middleware.tokens import sign

NOW = 1_800_000_000.0


def token(key: str = KEY, **claims: Any) -> str:
    base: dict[str, Any] = {"sub": "ada", "email": "ada@example.com", "name": "Ada",
                            "iat": int(NOW), "exp": int(NOW) + 300, "jti": "jti-1"}
    base.update(claims)
    return sign({k: v for k, v in base.items() if v is not None}, Key(key))


def verifier(skin: Skin, clock: Clock, **options: Any) -> tuple[Any, Any]:
    options.setdefault("key", KEY)
    return skin.verifier(clock=clock, **options)


def assert_no_token(result: Any, tok: str) -> None:
    assert tok not in result.text
    assert tok[:30] not in " ".join(result.headers.values())


# -- the generic receiver ------------------------------------------------------------


def test_login_opens_session_and_drops_token(skin: Skin, clock: Clock) -> None:
    middleware, client = verifier(skin, clock)
    r = client.get(f"/sso?token={token()}&next=/dashboard%3Ftab%3D2")
    assert r.status == 303
    assert r.location == "/dashboard?tab=2"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    cookie = r.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie
    assert client.get("/dashboard").json() == {"path": "/dashboard", "user": "ada"}
    (login,) = middleware.logins
    assert login.service == "sso" and login.claims["email"] == "ada@example.com"
    assert login.principal.id == "ada" and login.at == NOW


def test_secure_cookie_on_https(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.get(f"/sso?token={token()}", https=True)
    assert "Secure" in r.headers["Set-Cookie"]


@pytest.mark.parametrize("nxt", ["//evil.com", "https://evil.com/", "/\\evil.com", "javascript:x"])
def test_unsafe_next_falls_back_to_root(skin: Skin, clock: Clock, nxt: str) -> None:
    _, client = verifier(skin, clock)
    r = client.get(f"/sso?token={token()}&next={quote(nxt, safe='')}")
    assert r.status == 303 and r.location == "/"


def test_replay_is_refused(skin: Skin, clock: Clock) -> None:
    middleware, client = verifier(skin, clock)
    tok = token()
    assert client.get(f"/sso?token={tok}").status == 303
    fresh = skin.client(middleware)
    r = fresh.get(f"/sso?token={tok}")
    assert r.status == 401
    assert "already been used" in r.text
    assert "Set-Cookie" not in r.headers
    assert_no_token(r, tok)
    assert len(middleware.logins) == 1


def test_replay_keyed_on_claims_not_spelling(skin: Skin, clock: Clock) -> None:
    # Same claims re-signed with a different header spelling: still one use.
    _middleware, client = verifier(skin, clock)
    assert client.get(f"/sso?token={token()}").status == 303
    other = sign({"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 300, "jti": "jti-1"},
                 Key(KEY, kid=None), typ=None)
    assert client.stranger().get(f"/sso?token={other}").status == 401


def test_token_without_jti_is_one_time_too(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    tok = token(jti=None)
    assert client.get(f"/sso?token={tok}").status == 303
    assert client.stranger().get(f"/sso?token={tok}").status == 401


def test_expiry_with_controlled_clock(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, leeway=5)
    tok = token()
    clock.advance(300 + 6)
    r = client.get(f"/sso?token={tok}", headers={"Accept": "application/json"})
    assert r.status == 401
    assert r.json() == {"error": "token_expired",
                        "message": "The sign-in token has expired. Please sign in again."}
    assert r.headers["Cache-Control"] == "no-store"


def test_tampering_and_wrong_key(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    tok = token()
    head, _payload, sig = tok.split(".")
    forged = token(sub="admin")
    for bad in (f"{head}.{forged.split('.')[1]}.{sig}", token(key=OTHER_KEY)):
        r = client.get(f"/sso?token={bad}")
        assert r.status == 401 and "signature" in r.text
        assert_no_token(r, bad)


MALFORMED = [
    "", "abc", "a.b", "a.b.c", "é.é.é", "%00", "x" * 20000, "eyJhbGciOiJub25lIn0.e30.",
    token() + "=", token() + "%20", token() + "%0a", token().replace(".", "%2E%2E"),
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_tokens_are_clean_4xx(skin: Skin, clock: Clock, bad: str) -> None:
    _, client = verifier(skin, clock)
    r = client.get(f"/sso?token={bad}")
    assert 400 <= r.status < 500
    assert "Set-Cookie" not in r.headers
    if len(bad) > 8:
        assert bad[:40] not in r.text


def test_missing_token(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.get("/sso", headers={"Accept": "application/json"})
    assert r.status == 400 and r.json()["error"] == "token_missing"


def test_lifetime_too_long_and_missing_exp(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.get(f"/sso?token={token(exp=int(NOW) + 5 * 365 * 86400)}",
                   headers={"Accept": "application/json"})
    assert r.json()["error"] == "token_lifetime_too_long"
    r = client.get(f"/sso?token={token(exp=None, jti='j2')}", headers={"Accept": "application/json"})
    assert r.json()["error"] == "token_missing_claim"


def test_audience_and_typ_when_configured(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, audience="app-b", typ="JWT")
    r = client.get(f"/sso?token={token()}", headers={"Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "token_missing_claim"
    assert client.get(f"/sso?token={token(aud='app-b', jti='j9')}").status == 303


def test_issuer_when_configured(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, issuer="app-a")
    assert client.get(f"/sso?token={token(iss='app-x')}").status == 401
    assert client.get(f"/sso?token={token(iss='app-a', jti='j3')}").status == 303


def test_identity_claim_is_configurable(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, identity=["email"])
    assert client.get(f"/sso?token={token()}").status == 303
    assert client.get("/").json()["user"] == "ada@example.com"


def test_new_session_on_every_login(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token(jti='a')}")
    first = client.cookie("sso_session")
    client.get(f"/sso?token={token(jti='b')}")
    assert first and client.cookie("sso_session") not in (None, first)


def test_logout(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    assert client.get("/").json()["user"] == "ada"
    r = client.request("POST", "/sso/logout")
    assert r.status == 303 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert client.get("/").json()["user"] is None


def test_tampered_cookie_is_anonymous_and_cleared(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    value = client.cookie("sso_session")
    assert value
    client.set_cookie("sso_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    r = client.get("/")
    assert r.json()["user"] is None
    assert "Max-Age=0" in r.headers["Set-Cookie"]


def test_login_token_is_not_a_session_cookie(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    client.set_cookie("sso_session", token())
    assert client.get("/").json()["user"] is None


def test_session_expires(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, session_max_age=600)
    client.get(f"/sso?token={token()}")
    clock.advance(599)
    assert client.get("/").json()["user"] == "ada"
    clock.advance(2)
    r = client.get("/")
    assert r.json()["user"] is None and "Max-Age=0" in r.headers["Set-Cookie"]


def test_on_login_hook(skin: Skin, clock: Clock) -> None:
    seen: list[Any] = []
    _, client = verifier(skin, clock, on_login=seen.append)
    client.get(f"/sso?token={token()}")
    assert [login.claims["sub"] for login in seen] == ["ada"]


def test_post_to_query_receiver_is_405(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.request("POST", f"/sso?token={token()}")
    assert r.status == 405 and r.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("placement", [PathSegment(), FormField()], ids=["path", "form"])
def test_generic_receiver_placements(skin: Skin, clock: Clock, placement: Any) -> None:
    middleware, client = verifier(skin, clock, placement=placement, path="/auth")
    if isinstance(placement, PathSegment):
        r = client.get(f"/auth/{token()}")
    else:
        r = client.request("POST", "/auth", data={"token": token()})
    assert r.status == 303 and middleware.logins[0].principal.id == "ada"
    assert client.request("POST", "/auth/logout").status == 303


def test_other_paths_pass_through_anonymous(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    assert client.get("/elsewhere?token=abc").json() == {"path": "/elsewhere", "user": None}


def test_replay_store_full_fails_closed(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock, replay_store=MemoryReplayStore(max_entries=2))
    assert client.get(f"/sso?token={token(jti='1')}").status == 303
    assert client.get(f"/sso?token={token(jti='2')}").status == 303
    r = client.get(f"/sso?token={token(jti='3')}", headers={"Accept": "application/json"})
    assert r.status == 503 and r.json()["error"] == "replay_store_full"
    assert client.get(f"/sso?token={token(jti='1')}").status == 401  # still a replay
    clock.advance(400)  # the first two expire and leave the store
    assert client.get(f"/sso?token={token(jti='3', iat=int(clock.now), exp=int(clock.now) + 60)}"
                      ).status == 303


def test_broken_replay_store_fails_closed(skin: Skin, clock: Clock) -> None:
    class Broken(MemoryReplayStore):
        def claim(self, key: str, expires_at: float, now: float) -> bool:
            raise ConnectionError("redis is down")

        async def aclaim(self, key: str, expires_at: float, now: float) -> bool:
            raise ConnectionError("redis is down")

    middleware, client = verifier(skin, clock, replay_store=Broken())
    r = client.get(f"/sso?token={token()}", headers={"Accept": "application/json"})
    assert r.status == 503 and r.json()["error"] == "replay_store_unavailable"
    assert not middleware.logins


# -- receiving like a service ----------------------------------------------------------


def test_frill_stand_in_receives_on_the_board_page(skin: Skin, clock: Clock) -> None:
    frill = services.frill(key=KEY, hosts=["feedback.acme.com"])
    middleware, client = skin.verifier(service=frill, clock=clock)
    tok = token(id=7, sub=None)
    r = client.get(f"/b/roadmap?filter=top&ssoToken={tok}")
    assert r.status == 303 and r.location == "/b/roadmap?filter=top"
    assert client.get("/b/roadmap").json()["user"] == "7"
    assert middleware.logins[0].service == "frill"


def test_frill_stand_in_ignores_lookalike_parameters(skin: Skin, clock: Clock) -> None:
    frill = services.frill(key=KEY, hosts=["feedback.acme.com"])
    _, client = skin.verifier(service=frill, clock=clock)
    assert client.get("/b/roadmap?xssoToken=1&a=ssoToken=2").json()["path"] == "/b/roadmap"
    assert client.get("/b/roadmap?a=1&ssoToken=bad").status == 400


def test_frill_stand_in_requires_frill_claims(skin: Skin, clock: Clock) -> None:
    frill = services.frill(key=KEY, hosts=["feedback.acme.com"])
    _, client = skin.verifier(service=frill, clock=clock)
    r = client.get(f"/?ssoToken={token(id=7, name=None)}", headers={"Accept": "application/json"})
    assert r.status == 401 and r.json() == {
        "error": "token_missing_claim", "message": "The sign-in token has no name claim."}


def test_invoiced_stand_in_accepts_the_docs_token(skin: Skin) -> None:
    v = vectors()["invoiced_docs"]
    with pytest.warns(UserWarning, match="24 bytes"):
        svc = services.invoiced(key=v["secret"], company="acme")
    middleware, client = skin.verifier(service=svc, clock=lambda: v["payload"]["exp"] - 60)
    r = client.get(f"/login/{v['token']}")
    assert r.status == 303
    assert middleware.logins[0].claims == v["payload"]
    assert client.get("/").json()["user"] == "1234"
    assert skin.client(middleware).get(f"/login/{v['token']}").status == 401  # one time


def test_form_post_receiver(skin: Skin, clock: Clock) -> None:
    svc = services.zendesk(key=KEY, subdomain="acme")
    middleware, client = skin.verifier(service=svc, clock=clock)
    tok = token(sub=None)
    r = client.get(f"/access/jwt?jwt={tok}")
    assert r.status == 405 and r.headers["Allow"] == "POST"
    r = client.request("POST", "/access/jwt", data={"jwt": tok})
    assert r.status == 303
    assert middleware.logins[0].principal.id == "ada@example.com"
    r = client.request("POST", "/access/jwt", data=b"jwt=" + b"a" * 20000,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400


def test_configuration_errors(skin: Skin) -> None:
    with pytest.raises(ConfigurationError, match="no key"):
        skin.verifier()
    with pytest.raises(ConfigurationError, match="not both"):
        skin.verifier(key=KEY, service=services.invoiced(key=KEY, company="acme"))
    with pytest.raises(ConfigurationError, match="path"):
        skin.verifier(key=KEY, path="sso")
    with pytest.raises(ConfigurationError, match="none"):
        skin.verifier(key=KEY, algorithms=["none"])
    with pytest.raises(ConfigurationError, match="default_return"):
        skin.verifier(key=KEY, default_return="https://evil.com")


# -- concurrency -----------------------------------------------------------------------


def test_exactly_one_of_64_concurrent_presentations_wins_threads(clock: Clock) -> None:
    from werkzeug.test import Client as WerkzeugClient

    app = wsgi.VerifierMiddleware(wsgi_echo, key=KEY, clock=clock)
    tok = token()
    barrier = threading.Barrier(64)
    statuses: list[int] = []

    def present() -> None:
        client = WerkzeugClient(app)
        barrier.wait()
        statuses.append(client.get(f"/sso?token={tok}").status_code)

    threads = [threading.Thread(target=present) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [303] + [401] * 63


def test_exactly_one_of_64_concurrent_presentations_wins_asgi(clock: Clock) -> None:
    middleware, _ = Skin("asgi").verifier(key=KEY, clock=clock)
    tok = token()

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=middleware)
        async def browser() -> httpx.Response:  # 64 browsers, none holding another's cookie
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get(f"/sso?token={tok}")

        responses = await asyncio.gather(*(browser() for _ in range(64)))
        return [r.status_code for r in responses]

    assert sorted(asyncio.run(go())) == [303] + [401] * 63


def test_starlette_requires_works_behind_verifier(clock: Clock) -> None:
    from starlette.applications import Starlette
    from starlette.authentication import requires
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from sso_middleware.asgi import VerifierMiddleware

    @requires("authenticated", redirect=None)
    async def private(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello {request.user.display_name} ({request.user.identity})")

    app = Starlette(routes=[Route("/private", private)])
    wrapped = VerifierMiddleware(app, key=KEY, clock=clock)

    async def go() -> tuple[int, str]:
        transport = httpx.ASGITransport(app=wrapped)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            denied = await client.get("/private")
            await client.get(f"/sso?token={token()}")
            allowed = await client.get("/private")
        return denied.status_code, allowed.text

    assert go and asyncio.run(go()) == (403, "hello Ada (ada)")
    assert urlsplit("/private").path == "/private"


def test_asgi_user_objects_are_immutable_and_outer_user_kept(clock: Clock) -> None:
    from starlette.authentication import AuthCredentials, SimpleUser

    from sso_middleware.asgi import SSOUser, VerifierMiddleware

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["user"], scope["auth"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = VerifierMiddleware(app, key=KEY, clock=clock)

    async def outer(scope: Any, receive: Any, send: Any) -> None:
        scope["user"] = SimpleUser("from-outer-middleware")
        scope["auth"] = AuthCredentials(["outer"])
        await middleware(scope, receive, send)

    async def go() -> None:
        transport = httpx.ASGITransport(app=outer)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/")
            await client.get(f"/sso?token={token()}")
            await client.get("/")
            await client.get("/")

    asyncio.run(go())
    assert seen[0][0].username == "from-outer-middleware"
    user, auth = seen[1]
    assert isinstance(user, SSOUser) and user.identity == "ada"
    with pytest.raises(AttributeError):
        user.principal = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        auth.scopes.append("admin")  # a tuple: the shared credentials cannot be widened
    assert seen[2][0] is user  # one immutable user object per cached session


@pytest.mark.network
def test_exactly_one_of_64_concurrent_presentations_wins_over_sockets(skin: Skin, clock: Clock) -> None:
    from servers import serve

    middleware, _ = skin.verifier(key=KEY, clock=clock)
    tok = token()

    async def go(base: str) -> list[int]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            responses = await asyncio.gather(*(client.get(f"/sso?token={tok}") for _ in range(64)))
        return [r.status_code for r in responses]

    with serve(skin.name, middleware) as base:
        statuses = asyncio.run(go(base))
    assert sorted(statuses) == [303] + [401] * 63
    assert len(middleware.logins) == 1


def test_generic_receiver_with_another_algorithm(skin: Skin, clock: Clock) -> None:
    secret = "k" * 64
    _, client = skin.verifier(key=secret, algorithms=["HS512"], clock=clock)
    hs512 = sign({"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 60, "jti": "a"},
                 Key(secret, algorithm="HS512"))
    assert client.get(f"/sso?token={hs512}").status == 303
    hs256 = sign({"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 60, "jti": "b"}, Key(secret))
    assert client.get(f"/sso?token={hs256}").status == 401
    with pytest.raises(ConfigurationError, match="bound to one algorithm"):
        skin.verifier(key=secret, algorithms=["HS256", "HS512"])
    both = [Key(secret, algorithm="HS512"), Key(KEY, algorithm="HS256")]
    _, client = skin.verifier(key=both, algorithms=["HS256", "HS512"], clock=clock)
    assert client.get(f"/sso?token={token(jti='c')}").status == 303


# -- drifts the skins once had (each pinned on both) ---------------------------------------


def test_logout_ignores_a_large_body(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.request("POST", "/sso/logout", data=b"x" * 20_000)
    assert r.status == 303 and "Max-Age=0" in r.headers["Set-Cookie"]


def test_redirects_carry_no_content_type(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.get(f"/sso?token={token()}")
    assert r.status == 303 and "Content-Type" not in r.headers
    r = client.request("POST", "/sso/logout")
    assert r.status == 303 and "Content-Type" not in r.headers


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "PUT", "PATCH", "OPTIONS"])
def test_logout_answers_only_its_methods(skin: Skin, clock: Clock, method: str) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    r = client.request(method, "/sso/logout")
    assert r.status == 405 and r.headers["Allow"] == "POST"
    assert "Set-Cookie" not in r.headers
    assert client.get("/dashboard").json()["user"] == "ada"


def test_head_gets_headers_without_a_body(skin: Skin, clock: Clock) -> None:
    _, client = verifier(skin, clock)
    r = client.request("HEAD", "/sso?token=junk")
    assert r.status == 400 and r.text == "" and int(r.headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.com"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.com"},
    ],
    ids=["fetch-cross-site", "fetch-same-site", "foreign-origin", "null-origin", "look-alike-origin"],
)
def test_logout_cannot_be_triggered_cross_site(skin: Skin, clock: Clock, headers: dict[str, str]) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    r = client.request("POST", "/sso/logout", headers={**headers, "Accept": "application/json"})
    assert r.status == 403 and r.json()["error"] == "cross_site_request"
    assert "Set-Cookie" not in r.headers
    assert client.get("/dashboard").json()["user"] == "ada"


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"},
                                     {"Sec-Fetch-Site": "none"}])
def test_logout_from_our_own_pages(skin: Skin, clock: Clock, headers: dict[str, str]) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    assert client.request("POST", "/sso/logout", headers=headers).status == 303
    assert client.get("/dashboard").json()["user"] is None


# What browsers send for a logout form on our own page, and for one on another site (issue 29):
# Chromium posts `Origin: null` with `Sec-Fetch-Site: same-origin` from a page served with
# `Referrer-Policy: no-referrer`; Sec-Fetch-Site is trusted when present, Origin and Referer only without it.
SAME_ORIGIN_RULE = [
    ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, True, "no-referrer-page"),
    ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, True, "default-page"),
    ({"Sec-Fetch-Site": "same-origin"}, True, "fetch-site-only"),
    ({"Sec-Fetch-Site": "none"}, True, "typed-by-the-person"),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, False, "cross-site-null-origin"),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False, "cross-site-says-fetch-site"),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://a.localhost"}, False, "sibling-subdomain"),
    ({"Origin": "null"}, False, "sandboxed-frame"),
    ({"Origin": "http://localhost"}, True, "old-browser-own-origin"),
    ({"Origin": "http://evil.example"}, False, "old-browser-foreign-origin"),
    ({"Referer": "http://localhost/settings"}, True, "referer-own-host"),
    ({"Referer": "http://evil.example/localhost"}, False, "referer-foreign-host"),
    ({"Referer": "http://localhost@evil.example/"}, False, "referer-userinfo"),
    ({}, True, "not-a-browser"),
]


@pytest.mark.parametrize(("headers", "passes"),
                         [pytest.param(h, ok, id=name) for h, ok, name in SAME_ORIGIN_RULE])
def test_one_same_origin_rule_for_logout(skin: Skin, clock: Clock, headers: dict[str, str],
                                         passes: bool) -> None:
    _, client = verifier(skin, clock)
    client.get(f"/sso?token={token()}")
    r = client.request("POST", "/sso/logout", headers={**headers, "Accept": "text/html"})
    if passes:
        assert r.status == 303 and client.get("/dashboard").json()["user"] is None
    else:
        assert r.status == 403 and "Sign-out refused" in r.text and "Sign-in failed" not in r.text
        assert "cross_site_request" in r.text and client.get("/dashboard").json()["user"] == "ada"
