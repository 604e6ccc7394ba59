"""Logout ends the session everywhere the replay store is shared; apps can sign a user out everywhere."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from helpers import KEY, Clock, Skin

from sso_middleware import Principal
from sso_middleware.errors import ReplayStoreUnavailable
from sso_middleware.keys import Key
from sso_middleware.replay import MemoryReplayStore
from sso_middleware.tokens import sign


def login(skin: Skin, middleware: Any, clock: Clock, user: str, jti: str) -> Any:
    """A fresh browser on ``middleware``, signed in as ``user``."""
    browser = skin.client(middleware)
    tok = sign({"sub": user, "iat": int(clock.now), "exp": int(clock.now) + 60, "jti": jti}, Key(KEY))
    assert browser.get(f"/sso?token={tok}").status == 303
    assert browser.get("/page").json()["user"] == user
    return browser


def copy(skin: Skin, middleware: Any, browser: Any) -> Any:
    """Another browser holding a copy of ``browser``'s session cookie."""
    thief = skin.client(middleware)
    thief.set_cookie("sso_session", browser.cookie("sso_session"))
    return thief


def sign_out_everywhere(middleware: Any, user: str) -> None:
    done = middleware.sign_out_everywhere(user)
    if asyncio.iscoroutine(done):
        asyncio.run(done)


def test_logout_ends_the_session_not_only_the_cookie(skin: Skin, clock: Clock,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    middleware, _ = skin.verifier(key=KEY, clock=clock)
    browser = login(skin, middleware, clock, "ada", "j1")
    thief = copy(skin, middleware, browser)
    assert thief.get("/page").json()["user"] == "ada"
    caplog.set_level(logging.INFO, "sso_middleware")
    assert browser.request("POST", "/sso/logout").status == 303
    r = thief.get("/page")
    assert r.json()["user"] is None
    assert "Max-Age=0" in r.headers.get("Set-Cookie", "")  # the revoked cookie is cleared
    assert "code=session_revoked" in caplog.text
    clock.advance(0.01)
    again = login(skin, middleware, clock, "ada", "j2")  # a new login is a new session
    assert again.get("/page").json()["user"] == "ada"


def test_logout_holds_on_every_middleware_sharing_the_store(skin: Skin, clock: Clock) -> None:
    store = MemoryReplayStore()
    here, _ = skin.verifier(key=KEY, clock=clock, replay_store=store)
    there, _ = skin.verifier(key=KEY, clock=clock, replay_store=store)
    browser = login(skin, here, clock, "ada", "j1")
    elsewhere = copy(skin, there, browser)
    assert elsewhere.get("/page").json()["user"] == "ada"
    assert browser.request("POST", "/sso/logout").status == 303
    assert elsewhere.get("/page").json()["user"] is None


def test_sign_out_everywhere_ends_one_users_sessions_only(skin: Skin, clock: Clock) -> None:
    middleware, _ = skin.verifier(key=KEY, clock=clock)
    laptop = login(skin, middleware, clock, "ada", "j1")
    phone = login(skin, middleware, clock, "ada", "j2")
    bob = login(skin, middleware, clock, "bob", "j3")
    clock.advance(1)
    sign_out_everywhere(middleware, "ada")
    assert laptop.get("/page").json()["user"] is None
    assert phone.get("/page").json()["user"] is None
    assert bob.get("/page").json()["user"] == "bob"
    clock.advance(0.01)
    assert login(skin, middleware, clock, "ada", "j4").get("/page").json()["user"] == "ada"


def test_revocation_lasts_until_the_session_would_have_expired(skin: Skin, clock: Clock) -> None:
    store = MemoryReplayStore()
    middleware, _ = skin.verifier(key=KEY, clock=clock, replay_store=store, session_max_age=100)
    browser = login(skin, middleware, clock, "ada", "j1")
    thief = copy(skin, middleware, browser)
    browser.request("POST", "/sso/logout")
    assert len(store) == 2  # the token's id and the revoked session
    clock.advance(99)
    assert thief.get("/page").json()["user"] is None
    clock.advance(2)  # the session has expired: the store forgets it, the cookie is refused anyway
    store.claim("later", clock.now + 10, clock.now)
    assert len(store) == 1
    assert thief.get("/page").json()["user"] is None


class Unreachable(MemoryReplayStore):
    """A store whose network can go away: then every call about sessions fails."""

    down = True

    def revoked(self, user: str, session: str, now: float) -> float:
        if self.down:
            raise ConnectionError("down")
        return super().revoked(user, session, now)

    async def arevoked(self, user: str, session: str, now: float) -> float:
        return self.revoked(user, session, now)

    def revoke(self, *args: Any) -> None:
        raise ConnectionError("down")

    async def arevoke(self, *args: Any) -> None:
        raise ConnectionError("down")


def test_store_down_session_is_not_trusted_and_kept(skin: Skin, clock: Clock,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    store = Unreachable()
    store.down = False
    middleware, _ = skin.verifier(key=KEY, clock=clock, replay_store=store)
    browser = login(skin, middleware, clock, "ada", "j1")
    store.down = True
    caplog.set_level(logging.INFO, "sso_middleware")
    r = browser.get("/page")
    assert r.json()["user"] is None and "Set-Cookie" not in r.headers  # not trusted, not thrown away
    assert "code=replay_store_unavailable" in caplog.text and "ConnectionError" in caplog.text
    store.down = False
    assert browser.get("/page").json()["user"] == "ada"


def test_logout_with_the_store_down_clears_the_cookie_and_says_so(skin: Skin, clock: Clock) -> None:
    middleware, _ = skin.verifier(key=KEY, clock=clock, replay_store=Unreachable())
    browser = skin.client(middleware)
    cookie = middleware._sessions.open(Principal("ada"), "sso", clock.now, False)
    browser.set_cookie("sso_session", cookie.split(";")[0].partition("=")[2])
    r = browser.request("POST", "/sso/logout", headers={"Accept": "application/json"})
    assert r.status == 503 and r.json()["error"] == "replay_store_unavailable"
    assert "Max-Age=0" in r.headers["Set-Cookie"]


def test_sign_out_everywhere_raises_when_the_store_cannot_record_it(skin: Skin, clock: Clock) -> None:
    middleware, _ = skin.verifier(key=KEY, clock=clock, replay_store=Unreachable())
    with pytest.raises(ReplayStoreUnavailable):
        sign_out_everywhere(middleware, "ada")
