"""The demo, clicked through over a real socket, and its command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from sso_middleware.demo import DemoServer


def test_demo_click_through() -> None:
    server = DemoServer(port=0)
    server.start()
    try:
        with httpx.Client(base_url=server.url, follow_redirects=True) as browser:
            home = browser.get("/")
            assert "Sign in as" in home.text
            # a service link while signed out goes to login and comes back afterwards
            r = browser.get("/sso/invoiced", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
            page = browser.post("/login", data={"user": "ada", "next": "/sso/invoiced"})
            assert str(page.url) == f"{server.url}/invoiced/"
            assert "Signed in as <strong>1001</strong>" in page.text  # Invoiced knows a customer id
            assert "&quot;sub&quot;: 1001" in page.text
            assert "&quot;iss&quot;: &quot;Acme App&quot;" in page.text
            home = browser.get("/")
            link = re.search(r"href='(/sso/frill\?redirect=[^']+)'", home.text)
            assert link
            board = browser.get(link.group(1).replace("&amp;", "&"))
            assert str(board.url) == f"{server.url}/frill/b/roadmap"
            assert "Frill board (stand-in)" in board.text
            assert "Signed in as <strong>Ada Lovelace</strong>" in board.text
            assert "ada@example.com" in board.text
            assert "ssoToken" not in str(board.url)
    finally:
        server.stop()


def test_demo_command_prints_url_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sso_middleware", "demo", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        deadline = time.monotonic() + 10
        while True:
            try:
                assert "Acme App" in httpx.get(url.group(0)).text
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "demo stopped" in out
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
