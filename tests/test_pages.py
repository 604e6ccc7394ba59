"""Error pages as a product (a way on, the app's own template) and a login reloaded by its own browser."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

import pytest
from helpers import KEY, Clock, Skin

from sso_middleware import ConfigurationError, Key, services
from sso_middleware.pages import ErrorPage
from sso_middleware.tokens import sign

NOW = 1_800_000_000


def token(jti: str = "j1", **claims: Any) -> str:
    return sign({"sub": "ada", "iat": NOW, "exp": NOW + 60, "jti": jti, **claims}, Key(KEY))


def test_the_built_in_page_offers_sign_in_again_at_the_login_url(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW), login_url="https://app.acme.com/sso/docs")
    page = client.get(f"/sso?token={token(exp=NOW - 100)}")
    assert page.status == 401
    assert "<a class='button' id='again' href='https://app.acme.com/sso/docs'>Sign in again</a>" in page.text
    assert "token_expired" in page.text and "<style>" in page.text
    # its only style is allowed by hash, nothing else may load
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "unsafe" not in csp


def test_without_a_login_url_the_way_on_is_the_default_return(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW), default_return="/home")
    page = client.get("/sso?token=garbage")
    assert "href='/home'>Continue</a>" in page.text and "garbage" not in page.text


def test_the_issuers_page_leads_back_to_the_app(skin: Skin) -> None:
    client = skin.issuer(services=[services.frill(key=KEY, hosts=["feedback.acme.com"])])
    page = client.get("/sso/frill?redirect=https://evil.example/", headers={"X-User": "ada"})
    assert page.status == 400 and "href='/'>Back to the app</a>" in page.text
    assert "evil.example" not in page.text


def render(page: ErrorPage) -> str:
    return (f"<main data-code='{page.code}' data-status='{page.status}'>{escape(page.message)} "
            f"<a href='{escape(page.again)}'>{escape(page.label)}</a></main>")


def test_an_apps_own_error_page_on_both_halves(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW), login_url="/sso/docs", error_page=render)
    page = client.get(f"/sso?token={token(exp=NOW - 100)}")
    assert page.text == (
        "<main data-code='token_expired' data-status='401'>The sign-in token has expired. Please sign in"
        " again. <a href='/sso/docs'>Sign in again</a></main>"
    )
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'; base-uri 'none'"
    assert page.headers["Cache-Control"] == "no-store"
    issuer = skin.issuer(services=[services.frill(key=KEY, hosts=["feedback.acme.com"])], error_page=render)
    refused = issuer.get("/sso/frill?redirect=https://evil.example/", headers={"X-User": "ada"})
    assert refused.text.startswith("<main data-code='redirect_not_allowed' data-status='400'>")


def test_json_clients_get_json_whatever_the_hook(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW), error_page=render)
    reply = client.get("/sso?token=garbage", headers={"Accept": "application/json"})
    assert reply.json() == {"error": "token_invalid", "message": "The sign-in token is malformed."}


def test_a_failing_hook_still_gives_a_page_and_is_logged(
    skin: Skin, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(page: ErrorPage) -> str:
        raise KeyError("template")

    def declines(page: ErrorPage) -> None:
        return None

    for hook in (broken, declines):
        _, client = skin.verifier(key=KEY, clock=Clock(NOW), error_page=hook)
        with caplog.at_level(logging.ERROR, "sso_middleware"):
            page = client.get("/sso?token=garbage")
        assert page.status == 400 and "Sign-in failed" in page.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "error_page hook failed (code=token_invalid); the built-in page was sent"]


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "sso/docs", "https://a b/"])
def test_a_bad_login_url_or_hook_is_refused_at_construction(skin: Skin, bad: str) -> None:
    with pytest.raises(ConfigurationError, match="login_url"):
        skin.verifier(key=KEY, login_url=bad)
    with pytest.raises(ConfigurationError, match="error_page"):
        skin.verifier(key=KEY, error_page="<h1>oops</h1>")


# -- a login presented again by the browser it signed in -------------------------------


def test_the_same_browser_presenting_its_own_login_again_continues(skin: Skin) -> None:
    middleware, client = skin.verifier(key=KEY, clock=Clock(NOW))
    url = f"/sso?token={token()}&next=/board"
    first = client.get(url)
    assert first.status == 303 and "Set-Cookie" in first.headers
    again = client.get(url)  # the back button, a reload, a second tab
    assert (again.status, again.location) == (303, "/board")
    assert "Set-Cookie" not in again.headers  # the same session goes on; nothing new is opened
    assert len(middleware.logins) == 1
    assert client.get("/board").json()["user"] == "ada"


def test_only_the_token_that_opened_the_session_continues(skin: Skin) -> None:
    _, ada = skin.verifier(key=KEY, clock=Clock(NOW))
    bob = ada.stranger()
    assert ada.get(f"/sso?token={token('a')}").status == 303
    assert bob.get(f"/sso?token={token('b')}").status == 303
    # Bob's used token in Ada's browser is a replay, even for the same user id
    assert ada.get(f"/sso?token={token('b')}", headers={"Accept": "application/json"}).json()["error"] == (
        "token_replayed")
    assert ada.stranger().get(f"/sso?token={token('a')}").status == 401  # and Ada's anywhere else


def test_after_logout_the_old_login_does_not_continue(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW))
    url = f"/sso?token={token()}"
    assert client.get(url).status == 303
    assert client.request("POST", "/sso/logout").status == 303
    assert client.get(url).status == 401
