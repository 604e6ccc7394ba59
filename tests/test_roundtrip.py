"""Issuer -> verifier, end to end: in-process through the pytest plugin, and over real sockets."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from helpers import KEY, OTHER_KEY, Clock, Skin
from servers import serve

from sso_middleware import services
from sso_middleware.services import Destination, TokenRules
from sso_middleware.testing import StandIn, StandInRefused

pytest_plugins = ["pytester"]

BOARD = "https://feedback.acme.com/b/roadmap"


def frill() -> Any:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def test_frill_round_trip_in_process(skin: Skin, sso_stand_in: Any) -> None:
    stand_in = sso_stand_in(frill())
    app = skin.issuer(services=[frill()])
    login = stand_in.follow(app.get(f"/sso/frill?redirect={quote(BOARD)}", headers={"X-User": "ada"}))
    assert login.service == "frill"
    assert (login.claims["id"], login.claims["email"], login.claims["name"]) == (
        7, "ada@example.com", "Ada Lovelace")
    assert stand_in.logins == [login]


def test_replay_refused_in_process(skin: Skin, sso_stand_in: Any) -> None:
    stand_in = sso_stand_in(frill())
    response = skin.issuer(services=[frill()]).get("/sso/frill", headers={"X-User": "ada"})
    stand_in.follow(response)
    with pytest.raises(StandInRefused) as e:
        stand_in.follow(response)
    assert (e.value.status, e.value.code) == (401, "token_replayed")


def test_expiry_with_controlled_clock(skin: Skin, clock: Clock) -> None:
    stand_in = StandIn(frill(), clock=clock, leeway=0)
    response = skin.issuer(services=[frill()], clock=clock).get(
        "/sso/frill", headers={"X-User": "ada"})
    clock.advance(301)
    with pytest.raises(StandInRefused, match="token_expired"):
        stand_in.follow(response)


def test_tampered_and_wrong_key(skin: Skin) -> None:
    location = skin.issuer(services=[frill()]).get("/sso/frill", headers={"X-User": "ada"}).location
    _head, _payload, sig = parse_qs(urlsplit(location).query)["ssoToken"][0].split(".")
    forged = location.replace(sig, sig[:5] + ("A" if sig[5] != "A" else "B") + sig[6:])
    with pytest.raises(StandInRefused, match="token_bad_signature"):
        StandIn(frill()).follow(forged)
    wrong = StandIn(services.frill(key=OTHER_KEY, hosts=["feedback.acme.com"]))
    with pytest.raises(StandInRefused, match="token_bad_signature"):
        wrong.follow(location)


def test_invoiced_and_zendesk_round_trips(skin: Skin) -> None:
    invoiced = services.invoiced(key=OTHER_KEY, company="acme",
                                 customer_id=lambda u: u.attributes["invoiced_id"])
    zendesk = services.zendesk(key=KEY, subdomain="acme")
    app = skin.issuer(services=[invoiced, zendesk])
    login = StandIn(invoiced).follow(app.get("/sso/invoiced", headers={"X-User": "ada"}))
    assert login.claims["sub"] == 1234 and login.principal.id == 1234
    login = StandIn(zendesk).follow(app.get("/sso/zendesk", headers={"X-User": "ada"}))
    assert login.claims["email"] == "ada@example.com"


# -- over real sockets -------------------------------------------------------------------


@pytest.mark.network
def test_live_round_trip_replay_and_logout(
    skin: Skin, sso_live_stand_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stand_in = sso_live_stand_in(frill())
    services_for_app = [services.frill(key=KEY, hosts=[stand_in.host])]
    issuer = skin.module.IssuerMiddleware(skin.echo, services=services_for_app,
                                          user=lambda r: {"id": 7, "email": "a@x.io", "name": "A"})
    with serve(skin.name, issuer) as app_url, httpx.Client() as browser:
        r = browser.get(f"{app_url}/sso/frill?redirect={quote(stand_in.url + '/b/ideas?x=1')}")
        assert r.status_code == 303
        location = r.headers["location"]
        assert location.startswith(f"{stand_in.url}/b/ideas?x=1&ssoToken=")
        landing = browser.get(location)
        assert landing.status_code == 303 and landing.headers["location"] == "/b/ideas?x=1"
        assert "HttpOnly" in landing.headers["set-cookie"]
        page = browser.get(f"{stand_in.url}/b/ideas?x=1")
        assert "signed in as 7" in page.text
        assert httpx.get(location).status_code == 401  # a replay over the wire, from another browser
        again = browser.get(location)  # this browser, back on its own login: it just continues
        assert again.status_code == 303 and "set-cookie" not in again.headers
        assert browser.post(f"{stand_in.url}/sso/logout").status_code == 303
        assert "not signed in" in browser.get(f"{stand_in.url}/").text
    assert [login.claims["email"] for login in stand_in.logins] == ["a@x.io"]
    # every log but the test's own HTTP client (httpx logs the URLs it requests)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert "/b/ideas?[query]" in logged  # the stand-in's request log ran ...
    assert "eyJ" not in logged and location.split("ssoToken=")[1] not in logged  # ... without the token


@pytest.mark.network
def test_live_stand_in_follow_helper(skin: Skin, sso_live_stand_in: Any) -> None:
    invoiced = services.invoiced(key=OTHER_KEY, company="acme")
    stand_in = sso_live_stand_in(invoiced)
    app_services = [services.invoiced(key=OTHER_KEY, base_url=stand_in.url, customer_id=lambda u: u.id)]
    issuer = skin.module.IssuerMiddleware(skin.echo, services=app_services,
                                          user=lambda r: {"id": 99})
    with serve(skin.name, issuer) as app_url, httpx.Client() as browser:
        response = browser.get(f"{app_url}/sso/invoiced")
        assert response.headers["location"].startswith(f"{stand_in.url}/login/")
        assert stand_in.follow(response).claims["sub"] == 99


@pytest.mark.slow
def test_plugin_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        from flask import Flask
        from sso_middleware import services
        from sso_middleware.extractors import remote_user
        from sso_middleware.wsgi import IssuerMiddleware

        KEY = {KEY!r}
        FRILL = services.frill(key=KEY, hosts=["feedback.acme.com"])

        def make_app():
            app = Flask(__name__)
            app.wsgi_app = IssuerMiddleware(app.wsgi_app, services=[FRILL], user=lambda r: {{
                "id": 1, "email": "ada@example.com", "name": "Ada"}})
            return app

        def test_feedback_link_signs_ada_in(sso_stand_in):
            stand_in = sso_stand_in(FRILL)
            response = make_app().test_client().get("/sso/frill")
            login = stand_in.follow(response)
            assert login.claims["email"] == "ada@example.com"
        """
    )
    result = pytester.runpytest_subprocess("-W", "error")
    result.assert_outcomes(passed=1)


def test_distinct_typ_keeps_directions_apart(skin: Skin) -> None:
    def app_b(**kw: Any) -> Any:
        return services.generic(name="app-b", key=KEY,
                                token=TokenRules(claims=lambda u: {"sub": str(u.id)}, **kw),
                                destination=Destination("https://b.example.com/sso"))

    issuer = skin.issuer(services=[app_b(typ="app-b+jwt"), frill()])
    strict = StandIn(app_b(), typ="app-b+jwt")
    assert strict.follow(issuer.get("/sso/app-b", headers={"X-User": "ada"})).claims["sub"] == "7"
    # a Frill token signed with the same key is refused by the receiver that wants its own typ
    frill_location = issuer.get("/sso/frill", headers={"X-User": "ada"}).location
    token = parse_qs(urlsplit(frill_location).query)["ssoToken"][0]
    with pytest.raises(StandInRefused, match="token_invalid_claim"):
        strict.follow(f"https://b.example.com/sso?token={token}")


def test_the_plugin_says_when_the_app_sent_the_browser_to_its_own_login(skin: Skin) -> None:
    stand_in = StandIn(frill())
    issuer = skin.issuer(services=[frill()], login_url="/login")
    to_login = issuer.get(f"/sso/frill?redirect={quote(BOARD)}")
    with pytest.raises(AssertionError, match=r"redirected to its own page /login\?next=%2Fsso%2Ffrill.*"
                                             r"is the test client signed in\?"):
        stand_in.follow(to_login)
    for accept in ("text/html", "application/json"):
        anonymous = skin.issuer(services=[frill()]).get("/sso/frill", headers={"Accept": accept})
        with pytest.raises(AssertionError, match=r"401 not_authenticated.*is the test client signed in"):
            stand_in.follow(anonymous)
    refused = skin.issuer(services=[frill()]).get("/sso/frill?redirect=https://evil.example/",
                                                  headers={"X-User": "ada"})
    with pytest.raises(AssertionError, match="refused to send the browser on: 400 redirect_not_allowed"):
        stand_in.follow(refused)


def test_a_refusal_names_its_code_and_a_hint(skin: Skin) -> None:
    wrong_key = services.frill(key=KEY[::-1], hosts=["feedback.acme.com"])
    response = skin.issuer(services=[wrong_key]).get("/sso/frill", headers={"X-User": "ada"})
    with pytest.raises(StandInRefused, match=r"401 token_bad_signature \(does the stand-in's service have"):
        StandIn(frill()).follow(response)
