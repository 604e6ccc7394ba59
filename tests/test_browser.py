"""A real browser (headless Chromium): the demo clicked through, and an auto-submitting form
whose Content-Security-Policy must let its one script run.

Skipped without chromium and chromedriver (CI installs both; SSO_REQUIRE_BROWSER makes them
mandatory).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from servers import werkzeug_server

from sso_middleware import services
from sso_middleware.demo import DemoServer
from sso_middleware.services import Destination, FormField, TokenRules
from sso_middleware.testing import LiveStandIn
from sso_middleware.wsgi import IssuerMiddleware


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
    under us, so a read that finds the old page gone is retried, not failed."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def page_text(d: Any) -> str | bool:
        body = str(d.find_element("tag name", "body").text)
        return body if text in body else False

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return str(WebDriverWait(driver, 10, ignored_exceptions=ignored).until(page_text))


def test_demo_click_through_in_a_browser(browser: Any) -> None:
    server = DemoServer(port=0)
    server.start()
    try:
        browser.delete_all_cookies()
        browser.get(server.url + "/")
        browser.find_element("css selector", "input[value='grace']").click()
        browser.find_element("css selector", "button[type='submit']").click()
        _wait_for(browser, "Hello, Grace Hopper")
        browser.find_element("id", "frill").click()
        page = _wait_for(browser, "Frill board (stand-in)")
        assert "Signed in as Grace Hopper" in page and "grace@example.com" in page
        assert browser.current_url == f"{server.url}/frill/b/roadmap"  # token gone from the URL
        browser.get(server.url + "/")
        browser.find_element("id", "invoiced").click()
        page = _wait_for(browser, "Invoiced portal (stand-in)")
        assert '"sub": 1002' in page
    finally:
        server.stop()


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
