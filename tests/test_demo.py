"""The demo, clicked through over a real socket, and its command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import Any

import httpx
import pytest

from sso_middleware.demo import DemoServer

pytestmark = pytest.mark.network


def test_demo_click_through() -> None:
    server = DemoServer(port=0)
    server.start()
    try:
        with httpx.Client(base_url=server.url, follow_redirects=True) as browser:
            home = browser.get("/")
            assert "Sign in as" in home.text
            _invoiced_after_login(browser, server.url)
            _frill_widget_and_board(browser, server.url)
            _forum_discourse_connect(browser, server.url)
    finally:
        server.stop()


def _invoiced_after_login(browser: httpx.Client, url: str) -> None:
    # a service link while signed out goes to login and comes back afterwards
    r = browser.get("/sso/invoiced", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    page = browser.post("/login", data={"user": "ada", "next": "/sso/invoiced"})
    assert str(page.url) == f"{url}/invoiced/"
    # Invoiced knows a customer id; the stand-in names whose account it is
    assert "Signed in as <strong>Ada Lovelace&#x27;s account</strong> <small>(id 1001)" in page.text
    assert "<tr><th>sub</th><td>1001</td></tr>" in page.text
    assert "<tr><th>iss</th><td>&quot;Acme App&quot;</td></tr>" in page.text
    assert re.search(r"<th>exp</th><td>\d\d:\d\d:\d\d <small>\(in 5 min\)", page.text)


def _frill_widget_and_board(browser: httpx.Client, url: str) -> None:
    home = browser.get("/")
    # Frill in widget mode: the page's script fetches the token beside the redirect login
    assert 'token_script' not in home.text
    assert '"/sso/frill/token"' in home.text
    widget = browser.get("/sso/frill/token", headers={"Sec-Fetch-Site": "same-origin"})
    assert widget.status_code == 200
    assert widget.json()["token"].count(".") == 2
    link = re.search(r"href='(/sso/frill\?redirect=[^']+)'", home.text)
    assert link
    board = browser.get(link.group(1).replace("&amp;", "&"))
    assert str(board.url) == f"{url}/frill/b/roadmap"
    assert "Frill board (stand-in)" in board.text
    assert "Signed in as <strong>Ada Lovelace</strong>" in board.text
    assert "ada@example.com" in board.text
    assert "ssoToken" not in str(board.url)


def _forum_discourse_connect(browser: httpx.Client, url: str) -> None:
    # the forum starts Discourse Connect: signed nonce -> the app -> a signed answer back
    forum = browser.get("/forum/session/sso_login?next=/forum/")
    assert str(forum.url) == f"{url}/forum/"
    assert "Forum (stand-in Discourse)" in forum.text
    assert "Signed in as <strong>Ada Lovelace</strong>" in forum.text
    assert "<tr><th>require_activation</th><td>&quot;true&quot;</td></tr>" in forum.text
    assert "sso=" not in str(forum.url)


def test_localhost_and_127_0_0_1_are_the_same_demo() -> None:
    server = DemoServer(port=0)
    server.start()
    try:
        other = server.url.replace("127.0.0.1", "localhost")
        r = httpx.get(f"{other}/sso/frill?redirect=x", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == f"{server.url}/sso/frill?redirect=x"
        assert httpx.get(f"{other}/", follow_redirects=True).url == f"{server.url}/"
    finally:
        server.stop()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell leaves a background job


@pytest.mark.parametrize(
    ("stop", "inherited"),
    [(signal.SIGINT, None), (signal.SIGINT, _ignore_sigint), (signal.SIGTERM, None)],
    ids=["ctrl-c", "ctrl-c-when-the-shell-ignored-it", "sigterm"],
)
def test_demo_command_prints_url_and_stops_cleanly(stop: signal.Signals, inherited: Any) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sso_middleware", "demo", "--port", "0", "--host", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=inherited,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        # the line is printed once the socket listens: the first request is answered
        assert "Acme App" in httpx.get(url.group(0)).text
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "demo stopped" in out
        assert "Traceback" not in err
        # the URL came first, and nothing but request lines after it: no warning meant for the
        # demo's developers (its stand-ins accept what their services accept, on purpose)
        assert all(" HTTP/1.1\" " in entry for entry in err.splitlines()), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
