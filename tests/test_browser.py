"""A real browser (headless Chromium): the demo clicked through, and an auto-submitting form
whose Content-Security-Policy must let its one script run.

Skipped without chromium and chromedriver (CI installs both; SSO_REQUIRE_BROWSER makes them
mandatory).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import KEY
from servers import werkzeug_server

from sso_middleware import services
from sso_middleware.demo import DemoServer
from sso_middleware.services import Destination, FormField, TokenRules
from sso_middleware.testing import LiveStandIn
from sso_middleware.wsgi import IssuerMiddleware

pytestmark = [pytest.mark.browser, pytest.mark.network]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        if os.environ.get("SSO_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are not installed")
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=DriverService(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(20)
        try:
            yield driver
        finally:
            driver.quit()


def _wait_for(driver: Any, text: str) -> str:
    """The page's text once it contains ``text``. While a redirect chain runs the page is replaced
    under us: the text is read by one script (no element handle to go stale), and a read that
    meets a page being torn down (any WebDriver error) is retried until the deadline."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def page_text(d: Any) -> str | bool:
        body = d.execute_script(
            "return document.readyState === 'complete' && document.body ? document.body.innerText : ''")
        return str(body) if text in str(body) else False

    return str(WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(page_text))


def _shot(driver: Any, name: str) -> None:
    """Keep a screenshot where a person can look at it (SSO_SCREENSHOTS=dir), else nowhere."""
    folder = os.environ.get("SSO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
@pytest.mark.slow
def test_demo_click_through_in_a_browser(browser: Any, name: str) -> None:
    server = DemoServer(port=0)
    server.start()
    try:
        _sign_in_then_frill(browser, server.url, name)
        _a_login_url_opened_twice(browser, server.url)
        _invoiced_and_the_forum(browser, server.url, name)
        _the_widget_and_grafana(browser, server.url, name)
        _a_broken_link_then_sign_in_again(browser, server.url, name)
    finally:
        server.stop()


def _sign_in_then_frill(browser: Any, url: str, name: str) -> None:
    browser.delete_all_cookies()
    browser.get(url.replace("127.0.0.1", name) + "/")
    assert "This demo is five sites in one process" in _wait_for(browser, "Sign in as")
    _shot(browser, f"{name}-1-home")
    browser.find_element("css selector", "input[value='grace']").click()
    browser.find_element("css selector", "button[type='submit']").click()
    _wait_for(browser, "Hello, Grace Hopper")
    _shot(browser, f"{name}-2-signed-in")
    browser.find_element("id", "frill").click()
    page = _wait_for(browser, "Frill board (stand-in)")
    assert "Signed in as Grace Hopper" in page
    assert "grace@example.com" in page
    assert re.search(r"exp\s+\d\d:\d\d:\d\d \(in 5 min\)", page), page
    assert browser.current_url == f"{url}/frill/b/roadmap"  # token gone from the URL
    _shot(browser, f"{name}-3-frill")


def _a_login_url_opened_twice(browser: Any, url: str) -> None:
    # a login URL opened twice in this browser (a second tab, a reload): the session goes on
    app_session = {"demo_user": browser.get_cookie("demo_user")["value"]}
    login = httpx.get(f"{url}/sso/frill", cookies=app_session).headers["location"]
    for _ in range(2):
        browser.get(login)
        page = _wait_for(browser, "Frill board (stand-in)")
        assert "Signed in as Grace Hopper" in page
        assert "already been used" not in page


def _invoiced_and_the_forum(browser: Any, url: str, name: str) -> None:
    browser.get(url + "/")
    browser.find_element("id", "invoiced").click()
    page = _wait_for(browser, "Invoiced portal (stand-in)")
    assert "Signed in as Grace Hopper's account (id 1002)" in page
    assert re.search(r"sub\s+1002", page)
    _shot(browser, f"{name}-4-invoiced")
    browser.get(url + "/")
    browser.find_element("id", "forum").click()  # Discourse Connect: the forum's nonce, then back
    page = _wait_for(browser, "Forum (stand-in Discourse)")
    assert "Signed in as Grace Hopper" in page
    assert re.search(r"external_id\s+\"2\"", page), page
    assert browser.current_url == f"{url}/forum/"  # sso and sig gone from the URL
    _shot(browser, f"{name}-4b-forum")


def _the_widget_and_grafana(browser: Any, url: str, name: str) -> None:
    browser.get(url + "/")  # the chat widget booted with the token its page fetched
    assert "booted for user_id 2 with a token from /sso/intercom/token" in _wait_for(browser, "booted")
    _shot(browser, f"{name}-4c-widget")
    browser.find_element("id", "grafana").click()  # ES256, checked against the app's JWKS
    page = _wait_for(browser, "Grafana (stand-in)")
    assert "Signed in as Grace Hopper" in page
    assert re.search(r"email\s+\"grace@example.com\"", page), page
    assert browser.current_url == f"{url}/grafana/d/overview"  # auth_token gone from the URL
    _shot(browser, f"{name}-4d-grafana")


def _a_broken_link_then_sign_in_again(browser: Any, url: str, name: str) -> None:
    # a broken link: the error page's "Sign in again" restarts the flow at the app
    browser.get(url + "/frill/b/roadmap?ssoToken=not-a-token")
    page = _wait_for(browser, "Sign-in failed")
    assert "token_invalid" in page
    assert "not-a-token" not in browser.page_source
    _shot(browser, f"{name}-5-error")
    browser.find_element("id", "again").click()
    page = _wait_for(browser, "Frill board (stand-in)")
    assert "Signed in as Grace Hopper" in page
    assert browser.current_url == f"{url}/frill/b/roadmap"


def test_auto_submitting_form_runs_under_its_csp(browser: Any) -> None:
    # A service that wants the token POSTed (like Zendesk), received by a live stand-in.
    rules = TokenRules(claims=lambda u: {"email": u.email}, identity=("email",))
    receiver = services.generic(name="helpdesk", key=KEY, token=rules, destination=Destination(
        "https://helpdesk.example.com/access/jwt", FormField("jwt")))
    stand_in = LiveStandIn(receiver)
    try:
        sender = services.generic(name="helpdesk", key=KEY, token=rules, destination=Destination(
            f"{stand_in.url}/access/jwt", FormField("jwt")))
        app = IssuerMiddleware(lambda e, s: [], services=[sender],
                               user=lambda r: {"id": 1, "email": "ada@example.com"})
        with werkzeug_server(app) as app_url:
            browser.get(f"{app_url}/sso/helpdesk")
            _wait_for(browser, "signed in as ada@example.com")
        assert [login.claims["email"] for login in stand_in.logins] == ["ada@example.com"]
    finally:
        stand_in.stop()


@pytest.mark.slow
def test_a_token_in_the_fragment_reaches_the_receiver_through_its_bridge_page(browser: Any) -> None:
    """Mintlify's shape: the token after '#', which only the page's own script can read."""
    from sso_middleware.keys import Key

    key = Key.generate("EdDSA")
    stand_in = LiveStandIn(services.mintlify(key=key, docs="https://docs.acme.com"))
    try:
        sender = services.mintlify(key=key, docs=stand_in.url)
        app = IssuerMiddleware(lambda e, s: [], services=[sender],
                               user=lambda r: {"id": 1, "email": "ada@example.com"})
        with werkzeug_server(app) as app_url:
            browser.get(f"{app_url}/sso/mintlify?redirect=/quickstart")
            _wait_for(browser, "signed in as 1")
        assert browser.current_url == f"{stand_in.url}/quickstart"  # the fragment and its token are gone
        assert [login.claims["sub"] for login in stand_in.logins] == ["1"]
    finally:
        stand_in.stop()


@pytest.mark.slow
def test_token_script_fetches_the_token_in_a_browser(browser: Any) -> None:
    """Intercom's shape: the page's script fetches /sso/intercom/token and boots the widget."""
    from sso_middleware.snippets import token_script

    page = ("<!doctype html><title>app</title><p id=out>waiting</p><script>function boot(token, exp) {"
            "var claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));"
            "document.getElementById('out').textContent = 'widget booted for ' + claims.user_id"
            " + ' until ' + exp; }</script>" + token_script("/sso/intercom/token", "boot")).encode()

    def home(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page]

    app = IssuerMiddleware(home, services=[services.intercom(key=KEY)],
                           user=lambda r: {"id": 42, "email": "ada@example.com"})
    with werkzeug_server(app) as app_url:
        browser.get(app_url + "/")
        text = _wait_for(browser, "widget booted for 42")
        _shot(browser, "token-endpoint")
    assert re.search(r"until \d{10}", text)


def _logout_page(user: object, policy: str) -> tuple[list[tuple[str, str]], bytes]:
    """Our own page with a plain logout form, served under ``policy`` ('' = the browser default)."""
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    if policy:
        headers.append(("Referrer-Policy", policy))
    body = (f"<!doctype html><title>app</title><p id=who>user: {user}</p>"
            "<form method=post action=/sso/logout><button id=out>Sign out</button></form>").encode()
    return headers, body


def _wsgi_logout_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    policy = environ.get("QUERY_STRING", "").partition("policy=")[2]
    headers, body = _logout_page(environ.get("REMOTE_USER"), policy)
    start_response("200 OK", headers)
    return [body]


async def _asgi_logout_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    user = scope.get("user")
    name = user.identity if user is not None and user.is_authenticated else None
    headers, body = _logout_page(name, scope.get("query_string", b"").decode().partition("policy=")[2])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("skin", ["wsgi", "asgi"])
@pytest.mark.slow
def test_logout_works_from_pages_with_any_referrer_policy(browser: Any, skin: str) -> None:
    """Issue 29: from a page sent with `Referrer-Policy: no-referrer`, Chromium posts the logout
    form with `Origin: null` beside `Sec-Fetch-Site: same-origin`; the user stayed signed in."""
    import time

    from servers import serve

    from sso_middleware import asgi, wsgi
    from sso_middleware.keys import Key
    from sso_middleware.tokens import sign

    module, inner = (wsgi, _wsgi_logout_app) if skin == "wsgi" else (asgi, _asgi_logout_app)
    app = module.VerifierMiddleware(inner, key=KEY)
    with serve(skin, app) as url:
        for n, policy in enumerate(["no-referrer", "", "same-origin", "strict-origin-when-cross-origin"]):
            now = int(time.time())
            claims = {"sub": "ada", "iat": now, "exp": now + 300, "jti": f"l{n}"}
            browser.get(f"{url}/sso?token={sign(claims, Key(KEY))}")
            browser.get(f"{url}/page?policy={policy}")
            _wait_for(browser, "user: ada")
            browser.find_element("id", "out").click()
            _wait_for(browser, "user: None")  # the logout's redirect landed: signed out ...
            browser.get(f"{url}/page?policy={policy}")
            _wait_for(browser, "user: None")  # ... and still signed out on the next page
            _shot(browser, f"logout-{skin}-{policy or 'default'}")


def _mail_app(inner: Any, skin: str) -> Any:
    """``inner``, plus ``/mail?link=...``: a webmail's page with the emailed link to click."""
    def page(query: str) -> bytes:
        from html import escape
        from urllib.parse import parse_qs

        link = parse_qs(query).get("link", [""])[0]
        return f"<!doctype html><title>mail</title><a id=open href='{escape(link)}'>Sign in</a>".encode()

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] != "/mail":
            return inner(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/html")])
        return [page(environ.get("QUERY_STRING", ""))]

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/mail":
            return await inner(scope, receive, send)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": page(scope["query_string"].decode())})
        return None

    return wsgi_app if skin == "wsgi" else asgi_app


@pytest.mark.parametrize("skin", ["wsgi", "asgi"])
@pytest.mark.slow
def test_an_emailed_link_survives_the_scanners_and_is_confirmed_in_a_browser(browser: Any,
                                                                             skin: str) -> None:
    """Issue 27: scanners fetch the link first (HEAD, GET, redirects followed or not); the person
    opens it in Chromium, presses "Continue as ...", and is signed in once; the link is dead after."""
    import time
    from urllib.parse import quote

    from servers import serve

    from sso_middleware import asgi, wsgi
    from sso_middleware.confirm import Confirm
    from sso_middleware.keys import Key
    from sso_middleware.tokens import sign

    module, inner = (wsgi, _wsgi_logout_app) if skin == "wsgi" else (asgi, _asgi_logout_app)
    for auto in (False, True):
        app = module.VerifierMiddleware(_mail_app(inner, skin), key=KEY,
                                        confirm=Confirm(auto_submit=True) if auto else True)
        with serve(skin, app) as url:
            now = int(time.time())
            claims = {"sub": "ada", "email": "ada@example.com", "iat": now, "exp": now + 900,
                      "jti": f"mail-{auto}"}
            link = f"{url}/sso?token={sign(claims, Key(KEY))}&next=/page"
            for follow in (False, True):
                for method in ("HEAD", "GET"):
                    seen = httpx.request(method, link, follow_redirects=follow,
                                         headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
                    assert seen.status_code == 200 and "set-cookie" not in seen.headers
            browser.delete_all_cookies()
            browser.get(f"{url}/mail?link={quote(link, safe='')}")
            browser.find_element("id", "open").click()  # the person's own click: Sec-Fetch-User ?1
            if not auto:
                _wait_for(browser, "Continue as ada@example.com")
                _shot(browser, f"confirm-{skin}")
                browser.find_element("id", "continue").click()
            _wait_for(browser, "user: ada")
            assert browser.current_url == f"{url}/page"
            assert httpx.get(link).status_code == 401  # another browser: already used
            browser.delete_all_cookies()
            browser.get(link)
            _wait_for(browser, "already been used")


class _Late:
    """A WSGI or ASGI app built once its server's URL (the issuer) is known."""

    def __init__(self) -> None:
        self.app: Any = None

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def asgi(self) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:  # (uvicorn: ASGI 3)
            await self.app(scope, receive, send)

        return app


def _callback(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The relying party's callback, on another origin: shows what it was sent."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"callback {environ['PATH_INFO']}?{environ['QUERY_STRING']}".encode()]


@pytest.mark.slow
@pytest.mark.parametrize("skin", ["wsgi", "asgi"])
def test_the_consent_and_sign_out_pages_answer_to_another_origin_in_a_browser(browser: Any,
                                                                             skin: str) -> None:
    """Issue 26: Chromium applies the page's form-action to the redirect its form's answer makes, so
    the consent page lets the form reach the client's origin, and Continue, Cancel and Sign out land
    there; nothing else may (a cross-origin form is refused by the server anyway)."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    from servers import serve

    from sso_middleware import asgi, wsgi
    from sso_middleware.keys import Key
    from sso_middleware.oidc import Client, OpenIDProvider

    module = wsgi if skin == "wsgi" else asgi
    late = _Late()
    ended: list[bool] = []
    with werkzeug_server(_callback) as rp, serve(skin, late.wsgi if skin == "wsgi" else late.asgi()) as url:
        provider = OpenIDProvider(
            issuer=url + "/sso", key=Key.generate("RS256"), end_session=lambda request: ended.append(True),
            clients=[Client("wiki", secret="wiki-oidc-secret-0123456789abcdef", redirect_uris=[rp + "/cb"],
                            trusted=False, post_logout_redirect_uris=[rp + "/bye"])],
        )
        late.app = module.IssuerMiddleware(
            _wsgi_logout_app if skin == "wsgi" else _asgi_logout_app, services=[], openid=provider,
            user=lambda request: {"id": 7, "email": "ada@example.com"}, login_url="/login")
        start = url + "/sso/oidc/authorize?" + urlencode(
            {"response_type": "code", "client_id": "wiki", "redirect_uri": rp + "/cb",
             "scope": "openid email", "state": "s-1"})
        for button, expect in (("continue", "code"), ("deny", "error")):
            browser.get(start)
            _wait_for(browser, "wiki asks to sign you in")
            _shot(browser, f"consent-{skin}")
            browser.find_element("id", button).click()
            _wait_for(browser, "callback /cb?")
            found = parse_qs(urlsplit(browser.current_url).query)
            assert browser.current_url.startswith(rp + "/cb?") and expect in found
            assert found["state"] == ["s-1"]
        browser.get(url + "/sso/oidc/logout?" + urlencode(
            {"client_id": "wiki", "post_logout_redirect_uri": rp + "/bye", "state": "out"}))
        _wait_for(browser, "asks to sign you out")
        browser.find_element("id", "continue").click()
        _wait_for(browser, "callback /bye?state=out")
        assert ended == [True]
