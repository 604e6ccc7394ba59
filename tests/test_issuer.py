from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt as pyjwt
import pytest
from helpers import DJANGO, KEY, OTHER_KEY, PAYLOADS, USERS, Clock, Form, Skin

from sso_middleware import ConfigurationError, Principal, services

FRILL = "/sso/frill"
BOARD = "https://feedback.acme.com/b/roadmap?filter=top"


def frill(**kw: Any) -> Any:
    return services.frill(key=KEY, hosts=["feedback.acme.com", "*.frill.co"], **kw)


def invoiced(**kw: Any) -> Any:
    return services.invoiced(
        key=OTHER_KEY, company="acme", customer_id=lambda u: u.attributes["invoiced_id"], **kw
    )


def decode(token: str, key: str = KEY) -> dict[str, Any]:
    # Time claims are checked by the tests themselves (the clock is controlled).
    options: Any = {"verify_sub": False, "verify_exp": False, "verify_iat": False}
    return pyjwt.decode(token, key, algorithms=["HS256"], options=options)


def assert_token_free(result: Any) -> None:
    everything = result.text + " ".join(f"{k}: {v}" for k, v in result.headers.items())
    assert "eyJ" not in everything


def test_frill_sends_user_back_to_redirect_with_token(skin: Skin, clock: Clock) -> None:
    client = skin.issuer(services=[frill()], clock=clock)
    r = client.get(f"{FRILL}?redirect={quote(BOARD, safe='')}", headers={"X-User": "ada"})
    assert r.status == 303
    parts = urlsplit(r.location)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "feedback.acme.com", "/b/roadmap")
    query = parse_qs(parts.query)
    assert query["filter"] == ["top"]
    claims = decode(query["ssoToken"][0])
    assert {k: claims[k] for k in ("email", "id", "name")} == {
        "email": "ada@example.com", "id": 7, "name": "Ada Lovelace"}
    assert claims["iat"] == int(clock.now) and claims["exp"] == int(clock.now) + 300
    assert len(claims["jti"]) >= 22  # 16 random bytes, base64url
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Pragma"] == "no-cache"
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_each_login_gets_a_new_jti(skin: Skin) -> None:
    client = skin.issuer(services=[frill()])
    jtis = {
        decode(parse_qs(urlsplit(client.get(FRILL, headers={"X-User": "ada"}).location).query)
               ["ssoToken"][0])["jti"]
        for _ in range(5)
    }
    assert len(jtis) == 5


def test_frill_without_redirect_goes_to_default(skin: Skin) -> None:
    client = skin.issuer(services=[frill()])
    r = client.get(FRILL, headers={"X-User": "ada"})
    assert r.location.startswith("https://feedback.acme.com/?ssoToken=eyJ")
    client = skin.issuer(services=[frill(default_redirect="https://acme.frill.co/b/x")])
    assert client.get(FRILL, headers={"X-User": "ada"}).location.startswith(
        "https://acme.frill.co/b/x?ssoToken=")


def test_invoiced_token_in_path_with_integer_sub(skin: Skin, clock: Clock) -> None:
    client = skin.issuer(services=[frill(), invoiced(issuer="Acme App")], clock=clock)
    r = client.get("/sso/invoiced", headers={"X-User": "ada"})
    assert r.status == 303
    match = re.fullmatch(r"https://acme\.invoiced\.com/login/([\w.-]+)", r.location)
    assert match
    claims = decode(match.group(1), OTHER_KEY)
    assert claims["sub"] == 1234 and type(claims["sub"]) is int
    assert claims["iss"] == "Acme App"
    assert claims["exp"] - claims["iat"] == 300


def test_invoiced_needs_its_customer_id_and_takes_a_custom_base_url(skin: Skin) -> None:
    # the app's user id (7) is not the Invoiced customer id (1234): no silent default
    with pytest.raises(ConfigurationError, match=r"customer_id=\.\.\. to sign users in"):
        skin.issuer(services=[services.invoiced(key=OTHER_KEY, base_url="https://billing.acme.com/")])
    svc = services.invoiced(key=OTHER_KEY, base_url="https://billing.acme.com/", customer_id="invoiced_id")
    r = skin.issuer(services=[svc]).get("/sso/invoiced", headers={"X-User": "ada"})
    assert r.location.startswith("https://billing.acme.com/login/eyJ")
    assert decode(r.location.rsplit("/", 1)[1], OTHER_KEY)["sub"] == 1234


def test_a_company_that_is_not_a_subdomain_names_the_example_then_base_url() -> None:
    with pytest.raises(ConfigurationError) as caught:
        services.invoiced(key=OTHER_KEY, company="Acme Inc", customer_id="invoiced_id")
    assert str(caught.value) == (
        "service 'invoiced': company must be your Invoiced subdomain (the 'acme' in acme.invoiced.com), "
        "e.g. 'acme'; or pass base_url='https://billing.acme.com' for a custom domain.")


BAD_RETURNS = [
    "https://evil.com/",
    "https://feedback.acme.com@evil.com/",
    "https://evil.com\\@feedback.acme.com/",
    "http://feedback.acme.com/",
    "//evil.com",
    "/\\evil.com",
    "javascript:alert(1)",
    "https://feedback.acme.com.evil.com/",
    "https://feedback.acme.com\t.evil.com",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("bad", BAD_RETURNS)
def test_bad_redirect_is_400_without_token(skin: Skin, bad: str) -> None:
    client = skin.issuer(services=[frill()])
    r = client.get(f"{FRILL}?redirect={quote(bad, safe='')}", headers={"X-User": "ada"})
    assert r.status == 400
    assert "not on its list of allowed" in r.text
    assert "Location" not in r.headers
    assert_token_free(r)
    assert "<script>" not in r.text and "evil" not in r.text


@pytest.mark.parametrize("bad", [p for p in PAYLOADS + DJANGO["bad"] if p])
def test_every_open_redirect_payload_over_http(skin: Skin, bad: str) -> None:
    # The Frill service allows feedback.acme.com and *.frill.co; none of these may get a token.
    client = skin.issuer(services=[frill()])
    r = client.get(f"{FRILL}?redirect={quote(bad, safe='')}", headers={"X-User": "ada"})
    assert r.status == 400, bad
    assert "Location" not in r.headers
    assert_token_free(r)


def test_duplicate_redirect_parameter_is_refused(skin: Skin) -> None:
    client = skin.issuer(services=[frill()])
    r = client.get(f"{FRILL}?redirect={quote(BOARD)}&redirect=https://evil.com/",
                   headers={"X-User": "ada"})
    assert r.status == 400
    assert_token_free(r)


def test_json_error_for_json_clients(skin: Skin) -> None:
    client = skin.issuer(services=[frill()])
    r = client.get(f"{FRILL}?redirect=https://evil.com/",
                   headers={"X-User": "ada", "Accept": "application/json"})
    assert r.status == 400
    assert r.json()["error"] == "redirect_not_allowed"
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "no-store"


def test_anonymous_user_goes_to_login_with_next(skin: Skin) -> None:
    client = skin.issuer(services=[frill()], login_url="/login")
    r = client.get(f"{FRILL}?redirect={quote(BOARD, safe='')}")
    assert r.status == 303
    parts = urlsplit(r.location)
    assert parts.path == "/login"
    nxt = parse_qs(parts.query)["next"][0]
    assert nxt == f"{FRILL}?redirect={quote(BOARD, safe='')}"
    # after logging in, following next resumes the flow
    r2 = client.get(nxt, headers={"X-User": "ada"})
    assert r2.location.startswith("https://feedback.acme.com/b/roadmap?filter=top&ssoToken=")


def test_login_url_with_query_and_root_path(skin: Skin) -> None:
    client = skin.issuer(services=[frill()], login_url="/accounts/login?lang=en")
    r = client.get(FRILL, root_path="/app")
    assert r.status == 303
    query = parse_qs(urlsplit(r.location).query)
    assert query == {"lang": ["en"], "next": ["/app/sso/frill"]}


def test_anonymous_without_login_url_is_401(skin: Skin) -> None:
    r = skin.issuer(services=[frill()]).get(FRILL)
    assert r.status == 401
    assert "sign in" in r.text
    assert_token_free(r)


def test_bad_redirect_checked_before_login(skin: Skin) -> None:
    r = skin.issuer(services=[frill()], login_url="/login").get(f"{FRILL}?redirect=https://evil.com")
    assert r.status == 400


def test_missing_claim_is_named(skin: Skin) -> None:
    r = skin.issuer(services=[frill()]).get(FRILL, headers={"X-User": "bob"})
    assert r.status == 400
    assert "email" in r.text
    assert_token_free(r)
    r = skin.issuer(services=[frill()]).get(
        FRILL, headers={"X-User": "bob", "Accept": "application/json"})
    assert r.json()["error"] == "missing_claim"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_405(skin: Skin, method: str) -> None:
    r = skin.issuer(services=[frill()]).request(method, FRILL, headers={"X-User": "ada"})
    assert r.status == 405
    assert r.headers["Allow"] == "GET, HEAD"
    assert_token_free(r)


@pytest.mark.parametrize("path", ["/", "/sso", "/sso/", "/sso/unknown", "/sso/frill/", "/x/sso/frill",
                                  "/SSO/frill"])
def test_other_paths_pass_through(skin: Skin, path: str) -> None:
    r = skin.issuer(services=[frill()]).get(path, headers={"X-User": "ada"})
    assert r.status == 200
    assert r.json()["path"] == path


def test_root_path_is_respected(skin: Skin) -> None:
    client = skin.issuer(services=[frill()])
    r = client.get(FRILL, root_path="/app", headers={"X-User": "ada"})
    assert r.status == 303 and "ssoToken=" in r.location


def test_custom_prefix(skin: Skin) -> None:
    client = skin.issuer(services=[frill()], prefix="/auth/out")
    assert client.get("/auth/out/frill", headers={"X-User": "ada"}).status == 303
    assert client.get(FRILL, headers={"X-User": "ada"}).status == 200


def test_extractor_receives_framework_request_and_errors_propagate(skin: Skin) -> None:
    seen: list[Any] = []

    def extractor(request: Any) -> Any:
        seen.append(request)
        raise RuntimeError("database down")

    client = skin.issuer(services=[frill()], user=extractor)
    with pytest.raises(RuntimeError, match="database down"):
        client.get(FRILL)
    expected = "werkzeug" if skin.name == "wsgi" else "starlette"
    assert type(seen[0]).__module__.startswith(expected)


def test_extractor_may_return_principal_or_object(skin: Skin) -> None:
    class User:
        id = "u-9"
        email = "grace@example.com"
        name = "Grace"

    for user in (Principal("u-9", "grace@example.com", "Grace"), User()):
        client = skin.issuer(services=[frill()], user=lambda request, u=user: u)
        claims = decode(parse_qs(urlsplit(client.get(FRILL).location).query)["ssoToken"][0])
        assert claims["id"] == "u-9" and claims["name"] == "Grace"


def test_async_extractor_on_asgi() -> None:
    async def extractor(request: Any) -> Any:
        return USERS["ada"]

    r = Skin("asgi").issuer(services=[frill()], user=extractor).get(FRILL)
    assert r.status == 303 and "ssoToken=" in r.location


def test_zendesk_posts_an_auto_submitting_form(skin: Skin) -> None:
    svc = services.zendesk(key=KEY, subdomain="acme")
    r = skin.issuer(services=[svc]).get(
        "/sso/zendesk?return_to=" + quote("https://acme.zendesk.com/hc/en-us?a=1&b=%222%22", safe=""),
        headers={"X-User": "ada"},
    )
    assert r.status == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert "form-action https://acme.zendesk.com" in r.headers["Content-Security-Policy"]
    form = Form()
    form.feed(r.text)
    # as Zendesk's own example: return_to in the action URL, only the token in the body
    action = urlsplit(form.action)
    assert (action.netloc, action.path) == ("acme.zendesk.com", "/access/jwt")
    assert parse_qs(action.query)["return_to"] == ["https://acme.zendesk.com/hc/en-us?a=1&b=%222%22"]
    assert list(form.fields) == ["jwt"]
    claims = decode(form.fields["jwt"])
    assert claims["email"] == "ada@example.com" and claims["name"] == "Ada Lovelace"


def test_zendesk_return_to_elsewhere_is_refused(skin: Skin) -> None:
    svc = services.zendesk(key=KEY, subdomain="acme")
    r = skin.issuer(services=[svc]).get("/sso/zendesk?return_to=https://evil.com/",
                                        headers={"X-User": "ada"})
    assert r.status == 400
    assert_token_free(r)


def test_canny_echoes_company_and_forwards_redirect(skin: Skin) -> None:
    svc = services.canny(key=KEY)
    r = skin.issuer(services=[svc]).get(
        "/sso/canny?companyID=abc123&redirect=" + quote("https://acme.canny.io/feedback", safe=""),
        headers={"X-User": "ada"},
    )
    parts = urlsplit(r.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://canny.io/api/redirects/sso"
    query = parse_qs(parts.query)
    assert query["companyID"] == ["abc123"]
    assert query["redirect"] == ["https://acme.canny.io/feedback"]
    assert decode(query["ssoToken"][0])["email"] == "ada@example.com"


def test_log_line_per_login_without_token_or_key(skin: Skin, caplog: pytest.LogCaptureFixture) -> None:
    client = skin.issuer(services=[frill()])
    with caplog.at_level(logging.DEBUG, logger="sso_middleware"):
        r = client.get(FRILL, headers={"X-User": "ada"})
    token = parse_qs(urlsplit(r.location).query)["ssoToken"][0]
    lines = [rec.getMessage() for rec in caplog.records]
    assert lines == ["issued login service=frill user=7"]
    assert all(token not in line and KEY not in line and "ada@example.com" not in line
               for line in lines)


def test_streaming_and_lifespan_pass_through_asgi() -> None:
    import asyncio

    from sso_middleware.asgi import IssuerMiddleware

    events: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        events.append(scope["type"])
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            return
        if scope["type"] == "websocket":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in (b"a", b"b"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    middleware = IssuerMiddleware(app, services=[frill()], user=lambda r: None)
    sent: list[Any] = []

    async def run() -> None:
        async def receive() -> Any:
            return {"type": "lifespan.startup"}

        async def send(message: Any) -> None:
            sent.append(message)

        await middleware({"type": "lifespan"}, receive, send)
        await middleware({"type": "websocket", "path": FRILL, "root_path": ""}, receive, send)
        await middleware({"type": "http", "path": "/stream", "root_path": "", "method": "GET",
                          "query_string": b"", "headers": []}, receive, send)

    asyncio.run(run())
    assert events == ["lifespan", "websocket", "http"]
    assert [m.get("body") for m in sent if m["type"] == "http.response.body"] == [b"a", b"b", b""]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: [frill(), frill()], "two services are named 'frill'"),
        (lambda: [], "at least one service"),
        (lambda: ["frill"], "not a Service"),
    ],
)
def test_configuration_errors_at_construction(skin: Skin, build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        skin.issuer(services=build())


@pytest.mark.parametrize("prefix", ["sso", "/sso/", "//sso", "/sso?x", "", "/s s"])
def test_bad_prefix(skin: Skin, prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        skin.issuer(services=[frill()], prefix=prefix)


def test_bad_user_and_login_url(skin: Skin) -> None:
    with pytest.raises(ConfigurationError, match="user"):
        skin.issuer(services=[frill()], user="current_user")
    with pytest.raises(ConfigurationError, match="login_url"):
        skin.issuer(services=[frill()], login_url="javascript:alert(1)")


def test_anonymous_objects_and_users_without_id(skin: Skin, caplog: pytest.LogCaptureFixture) -> None:
    class Anonymous:
        is_authenticated = False
        id = None

    client = skin.issuer(services=[frill()], user=lambda r: Anonymous(), login_url="/login")
    assert client.get(FRILL).location == "/login?next=%2Fsso%2Ffrill"
    client = skin.issuer(services=[frill()], user=lambda r: {"email": "ada@example.com"})
    with caplog.at_level("INFO", logger="sso_middleware"):
        r = client.get(FRILL)
    # the browser learns only that sign-in failed; the log has the whole explanation, once
    assert r.status == 500 and "configuration_error" in r.text and "without an" not in r.text
    assert "Location" not in r.headers
    (record,) = caplog.records
    assert record.levelname == "ERROR" and "without an 'id'" in record.getMessage()
