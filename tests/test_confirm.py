"""The confirm step for emailed sign-in links (issue 27), on both skins: mail scanners and link
previews fetch the link first (HEAD, GET, following redirects or not, with their own user agents
and no Sec-Fetch headers); the person's click still signs in exactly once, and never twice."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from helpers import KEY, Clock, Skin, asgi_echo, wsgi_echo

from sso_middleware import ConfigurationError, services
from sso_middleware.confirm import Confirm
from sso_middleware.keys import Key
from sso_middleware.pages import ConfirmView
from sso_middleware.placements import FormField, QueryParameter
from sso_middleware.replay import MemoryReplayStore
from sso_middleware.tokens import sign

NOW = 1_800_000_000.0

SCANNERS = [
    pytest.param("HEAD", {"User-Agent": "Microsoft Office Existence Discovery"}, False, id="office-head"),
    pytest.param("GET", {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                       "(KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                         "X-Forwarded-For": "40.94.0.1"}, True, id="outlook-safe-links"),
    pytest.param("GET", {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                         "Accept": "*/*"}, True, id="slack-unfurler"),
    pytest.param("GET", {"User-Agent": "Mozilla/5.0 (compatible; proofpoint-urldefense)"}, False,
                 id="gateway-no-redirects"),
    pytest.param("GET", {"User-Agent": "SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com"},
                 True, id="teams-preview"),
]
PERSON = {"User-Agent": "Mozilla/5.0 Firefox/128.0", "Sec-Fetch-Site": "cross-site",
          "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1",
          "Accept": "text/html"}
POSTED = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Origin": "null",
          "Accept": "text/html"}


def link_token(jti: str = "link-1", **claims: Any) -> str:
    base: dict[str, Any] = {"sub": "ada", "email": "ada@example.com", "name": "Ada",
                            "iat": int(NOW), "exp": int(NOW) + 900, "jti": jti}
    base.update(claims)
    return sign({k: v for k, v in base.items() if v is not None}, Key(KEY))


def confirming(skin: Skin, clock: Clock, app: Any = None, **options: Any) -> tuple[Any, Any]:
    options.setdefault("key", KEY)
    options.setdefault("confirm", True)
    return skin.verifier(app, clock=clock, **options)


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The confirm page's form: its action and its fields, as a browser reads them."""
    action = unescape(re.search(r'<form method="post" action="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]*)" value="([^"]*)"', page)}
    return action, fields


def click(client: Any, link: str, *, headers: dict[str, str] | None = None) -> Any:
    """A person: opens the link, reads the page, presses its button."""
    page = client.get(link, headers=PERSON)
    assert page.status == 200, page.text
    action, fields = form_of(page.text)
    return client.request("POST", action, data=fields, headers=headers or POSTED)


def prefetch(client: Any, method: str, url: str, headers: dict[str, str], follow: bool) -> list[Any]:
    """A scanner: one request, then (if it follows redirects) every Location, up to five."""
    seen = [client.request(method, url, headers=headers)]
    while follow and seen[-1].status in (301, 302, 303, 307, 308) and len(seen) < 5:
        seen.append(client.request(method, seen[-1].location, headers=headers))
    return seen


def shortener(skin: Skin, target: str) -> Any:
    """The wrapped app: ``/l/1`` redirects to ``target`` (a mail tracker's link), else says who."""
    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/l/1":
            start_response("302 Found", [("Location", target)])
            return [b""]
        return wsgi_echo(environ, start_response)

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/l/1":
            await send({"type": "http.response.start", "status": 302,
                        "headers": [(b"location", target.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await asgi_echo(scope, receive, send)

    return wsgi_app if skin.name == "wsgi" else asgi_app


# -- scanners first, then the person ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "headers", "follow"), SCANNERS)
def test_a_prefetched_link_still_signs_the_person_in_once(skin: Skin, clock: Clock, method: str,
                                                          headers: dict[str, str], follow: bool) -> None:
    tok = link_token()
    link = f"/sso?token={tok}&next=/invoices/7"
    middleware, person = confirming(skin, clock, shortener(skin, link))
    scanner = person.stranger()
    for url in ("/l/1", link):  # the tracker's short link, then the link itself
        for seen in prefetch(scanner, method, url, headers, follow):
            assert seen.status in (200, 302) and "Set-Cookie" not in seen.headers
    for _ in range(3):  # scanners come back (Safe Links re-checks at click time)
        scanner.request(method, link, headers=headers)
    assert not middleware.logins and scanner.get("/page").json()["user"] is None

    clock.advance(60)
    signed_in = click(person, link)
    assert signed_in.status == 303 and signed_in.location == "/invoices/7"
    assert person.get("/page").json()["user"] == "ada"
    assert len(middleware.logins) == 1

    other = person.stranger()  # the same link, clicked again in another browser
    refused = other.get(link, headers=PERSON)
    assert refused.status == 401 and "already been used" in refused.text and "<form" not in refused.text
    posted = other.request("POST", "/sso?next=/invoices/7", data={"token": tok}, headers=POSTED)
    assert posted.status == 401 and other.get("/page").json()["user"] is None
    assert len(middleware.logins) == 1


def test_without_confirm_a_scanner_burns_the_link(skin: Skin, clock: Clock) -> None:
    """Why the confirm step exists: the plain one-time link is consumed by the first GET."""
    middleware, person = confirming(skin, clock, confirm=False)
    link = f"/sso?token={link_token()}"
    person.stranger().get(link, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
    assert person.get(link, headers=PERSON).status == 401 and len(middleware.logins) == 1


def test_head_and_get_consume_nothing_and_head_has_no_body(skin: Skin, clock: Clock) -> None:
    middleware, client = confirming(skin, clock)
    link = f"/sso?token={link_token()}"
    head = client.request("HEAD", link)
    assert head.status == 200 and head.text == "" and head.headers["Cache-Control"] == "no-store"
    assert client.get(link).status == 200 and client.get(link).status == 200
    assert not middleware.logins and client.get("/page").json()["user"] is None


def test_the_same_browser_clicking_again_continues_its_session(skin: Skin, clock: Clock) -> None:
    _, client = confirming(skin, clock)
    link = f"/sso?token={link_token()}&next=/inbox"
    assert click(client, link).status == 303
    again = client.get(link, headers=PERSON)  # the person opens the email's link once more
    assert again.status == 303 and again.location == "/inbox"


@pytest.mark.parametrize(("claims", "status", "code"), [
    pytest.param({"exp": int(NOW) - 60}, 401, "token_expired", id="expired"),
    pytest.param({"aud": "admin"}, 401, "token_invalid_claim", id="another-purpose"),
], )
def test_bad_links_are_refused_on_get_already(skin: Skin, clock: Clock, claims: dict[str, Any],
                                              status: int, code: str) -> None:
    _, client = confirming(skin, clock)
    r = client.get(f"/sso?token={link_token(**claims)}", headers={"Accept": "application/json"})
    assert (r.status, r.json()["error"]) == (status, code)


def test_a_forged_link_is_refused_on_get(skin: Skin, clock: Clock) -> None:
    _, client = confirming(skin, clock)
    forged = sign({"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 60, "jti": "f"},
                  Key("someone-elses-key-0123456789-abcdefghijkl"))
    r = client.get(f"/sso?token={forged}")
    assert r.status == 401 and "<form" not in r.text and forged not in r.text


def test_a_store_that_cannot_look_without_writing_refuses_at_the_post(skin: Skin, clock: Clock) -> None:
    class WriteOnly(MemoryReplayStore):
        used = property()  # (hasattr is False: no read-only look)

    store = WriteOnly()
    _, client = confirming(skin, clock, replay_store=store)
    link = f"/sso?token={link_token()}"
    assert click(client, link).status == 303
    stranger = client.stranger()
    assert stranger.get(link, headers=PERSON).status == 200  # it cannot tell yet
    action, fields = form_of(stranger.get(link).text)
    assert stranger.request("POST", action, data=fields, headers=POSTED).status == 401


# -- the page leaks nothing, and only our own pages may post it -------------------------------------


HOSTILE = {"name": "</title><script>alert(1)</script>",
           "email": "\"><img src=x onerror=alert(1)>@evil.example"}


def test_the_page_leaks_nothing_and_escapes_the_claims(skin: Skin, clock: Clock) -> None:
    _, client = confirming(skin, clock)
    tok = link_token(**HOSTILE)
    page = client.get(f"/sso?token={tok}&next=/a%3Fb%3D1&utm=x", headers=PERSON)
    assert page.status == 200
    headers = page.headers
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "<script>alert" not in page.text and "<img" not in page.text
    assert "Continue as &quot;&gt;&lt;img src=x onerror=alert(1)&gt;@evil.example" in page.text
    urls = re.findall(r'(?:href|action|src)="([^"]*)"', page.text)
    assert urls and all(tok not in u and tok[:20] not in u for u in urls)
    assert form_of(page.text) == ("/sso?next=/a%3Fb%3D1&utm=x", {"token": tok})
    assert tok[:20] not in " ".join(headers.values())
    assert "<script>" not in page.text  # no auto-submit unless asked for


CROSS_SITE = [
    ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, True, "no-referrer-page"),
    ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, True, "default-page"),
    ({"Sec-Fetch-Site": "none"}, False, "not-from-a-page"),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, False, "cross-site-null-origin"),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False, "cross-site-says-fetch-site"),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://a.localhost"}, False, "sibling-subdomain"),
    ({"Origin": "null"}, False, "sandboxed-frame"),
    ({"Origin": "http://localhost"}, True, "old-browser-own-origin"),
    ({"Origin": "http://evil.example"}, False, "old-browser-foreign-origin"),
    ({"Referer": "http://evil.example/localhost"}, False, "referer-foreign-host"),
    ({}, True, "not-a-browser"),
]


@pytest.mark.parametrize(("headers", "passes"), [pytest.param(h, ok, id=n) for h, ok, n in CROSS_SITE])
def test_only_our_own_page_may_post_the_token(skin: Skin, clock: Clock, headers: dict[str, str],
                                              passes: bool) -> None:
    middleware, client = confirming(skin, clock)
    link = f"/sso?token={link_token()}"
    r = click(client, link, headers={**headers, "Accept": "text/html"})
    if passes:
        assert r.status == 303 and client.get("/page").json()["user"] == "ada"
        return
    assert r.status == 403 and "cross_site_request" in r.text and "Set-Cookie" not in r.headers
    assert not middleware.logins and client.get("/page").json()["user"] is None
    assert click(client, link).status == 303  # the refusal burned nothing: the real click works


def test_the_token_is_taken_from_the_post_body_only(skin: Skin, clock: Clock) -> None:
    _, client = confirming(skin, clock)
    r = client.request("POST", f"/sso?token={link_token()}",
                       headers={**POSTED, "Accept": "application/json"})
    assert r.status == 400 and r.json()["error"] == "token_missing"


# -- auto-submit, own pages, configuration ------------------------------------------------------------


@pytest.mark.parametrize(("headers", "auto"), [
    pytest.param(PERSON, True, id="person-clicked"),
    pytest.param({**PERSON, "Sec-Fetch-User": ""}, False, id="no-user-activation"),
    pytest.param({"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-User": "?1"}, False, id="not-navigation"),
    pytest.param({"User-Agent": "Slackbot-LinkExpanding 1.0"}, False, id="scanner"),
])
def test_auto_submit_only_for_a_persons_own_navigation(skin: Skin, clock: Clock, headers: dict[str, str],
                                                       auto: bool) -> None:
    middleware, client = confirming(skin, clock, placement=Confirm(auto_submit=True), confirm=False)
    page = client.get(f"/sso?token={link_token()}", headers=headers)
    assert page.status == 200 and ("<script>document.forms[0].submit();</script>" in page.text) is auto
    assert "script-src 'sha256-" in page.headers["Content-Security-Policy"]
    assert not middleware.logins


def test_an_app_styles_its_own_confirm_page(skin: Skin, clock: Clock) -> None:
    def page(view: ConfirmView) -> str:
        return f"<main class='acme'><h1>Hello</h1>{view.form(button_class='acme-button')}</main>"

    _, client = confirming(skin, clock, confirm=Confirm(page=page))
    r = client.get(f"/sso?token={link_token()}", headers=PERSON)
    assert r.text.startswith("<main class='acme'>") and "acme-button" in r.text
    assert "form-action 'self'" in r.headers["Content-Security-Policy"]
    action, fields = form_of(r.text)
    assert client.request("POST", action, data=fields, headers=POSTED).status == 303

    def broken(view: ConfirmView) -> str:
        raise RuntimeError("template missing")

    _, client = confirming(skin, clock, confirm=Confirm(page=broken))
    assert "Continue as ada@example.com" in client.get(f"/sso?token={link_token('l2')}").text


@pytest.mark.parametrize("options", [
    pytest.param({"placement": FormField("jwt")}, id="form-field"),
    pytest.param({"confirm": Confirm("jwt")}, id="another-parameter"),
    pytest.param({"confirm": "yes"}, id="not-a-bool"),
    pytest.param({"key": None, "service": services.frill(key=KEY, hosts=["fb.acme.com"])}, id="any-page"),
])
def test_confirm_configuration_mistakes(skin: Skin, options: dict[str, Any]) -> None:
    options = {"key": KEY, "confirm": True, **options}
    if options["key"] is None:
        del options["key"]
    with pytest.raises(ConfigurationError):
        skin.module.VerifierMiddleware(skin.echo, **options)


def test_confirm_keeps_the_parameter_and_the_root_path(skin: Skin, clock: Clock) -> None:
    _, client = confirming(skin, clock, placement=QueryParameter("login"))
    page = client.get(f"/sso?login={link_token()}&next={quote('/app/x')}", root_path="/app")
    action, fields = form_of(page.text)
    assert action == "/app/sso?next=/app/x" and set(fields) == {"login"}
