"""Discourse Connect, both directions, on both skins, against pydiscourse (an implementation we did
not write) and against our own stand-in forum, in-process and over real servers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest
from helpers import USERS, Clock, Skin
from pydiscourse import sso as pydiscourse
from pydiscourse.exceptions import DiscourseError
from servers import serve

from sso_middleware import ConfigurationError, services
from sso_middleware.testing import StandIn

SECRET = "d836444a9e4084d5b224a60c208dce14"  # the example secret of meta.discourse.org/t/13045
FORUM = "https://forum.acme.com"
NONCE = "cb68251eefb5211e58c00ff1395f0c0b"


def discourse(**kw: Any) -> Any:
    return services.discourse(secret=SECRET, url=FORUM, **kw)


def request_from_pydiscourse(nonce: str = NONCE, back: str = f"{FORUM}/session/sso_login",
                             secret: str = SECRET) -> str:
    """What Discourse sends the provider, built by pydiscourse: ``sso=…&sig=…``."""
    return pydiscourse.sso_payload(secret, nonce=nonce, return_sso_url=back)


def answer_fields(location: str) -> dict[str, str]:
    """The provider's answer, checked by pydiscourse as a Discourse site would, then read."""
    query = parse_qs(urlsplit(location).query)
    payload, sig = query["sso"][0], query["sig"][0]
    assert pydiscourse.sso_validate(quote(payload), sig, SECRET)  # pydiscourse accepts our signature
    return {k: v[0] for k, v in parse_qs(base64.b64decode(payload).decode(), keep_blank_values=True).items()}


# -- the app as the provider (issuer) -----------------------------------------------------


def test_pydiscourses_request_gets_an_answer_pydiscourse_accepts(skin: Skin) -> None:
    client = skin.issuer(services=[discourse(extra_claims={"groups": ["staff", "beta"], "admin": False})])
    r = client.get(f"/sso/discourse?{request_from_pydiscourse()}", headers={"X-User": "ada"})
    assert r.status == 303 and r.location.startswith(f"{FORUM}/session/sso_login?sso=")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
    fields = answer_fields(r.location)
    assert fields == {"nonce": NONCE, "email": "ada@example.com", "external_id": "7", "name": "Ada Lovelace",
                      "require_activation": "true", "groups": "staff,beta", "admin": "false"}


def test_require_activation_follows_email_verified(skin: Skin) -> None:
    verified = {**USERS["ada"], "email_verified": True, "username": "ada"}
    client = skin.issuer(services=[discourse()], user=lambda request: verified)
    fields = answer_fields(client.get(f"/sso/discourse?{request_from_pydiscourse()}").location)
    assert "require_activation" not in fields and fields["username"] == "ada"


def test_a_ruby_style_payload_with_line_breaks_is_accepted(skin: Skin) -> None:
    # Discourse (Ruby's Base64.encode64) wraps the payload every 60 characters; the breaks are signed
    raw = urlencode({"nonce": NONCE, "return_sso_url": f"{FORUM}/session/sso_login?x=" + "y" * 80})
    payload = base64.encodebytes(raw.encode()).decode()
    assert "\n" in payload
    sig = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    r = skin.issuer(services=[discourse()]).get(
        f"/sso/discourse?sso={quote(payload, safe='')}&sig={sig}", headers={"X-User": "ada"})
    assert r.status == 303 and answer_fields(r.location)["nonce"] == NONCE


def _signed(raw: bytes, secret: str = SECRET) -> str:
    payload = base64.b64encode(raw).decode()
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"sso={quote(payload, safe='')}&sig={sig}"


BAD_REQUESTS = {
    "no-sig": f"sso={quote(base64.b64encode(b'nonce=abcdefgh12345678').decode())}",
    "no-sso": "sig=" + "0" * 64,
    "nothing": "",
    "wrong-secret": request_from_pydiscourse(secret="another-forums-secret-0123"),
    "tampered": request_from_pydiscourse().replace("sso=", "sso=A", 1),
    "upper-case-sig": request_from_pydiscourse().rsplit("sig=", 1)[0] + "sig="
    + request_from_pydiscourse().rsplit("sig=", 1)[1].upper(),
    "sig-twice": request_from_pydiscourse() + "&sig=" + "0" * 64,
    "other-host": request_from_pydiscourse(back="https://evil.example/session/sso_login"),
    "userinfo": request_from_pydiscourse(back="https://forum.acme.com@evil.example/"),
    "http": request_from_pydiscourse(back="http://forum.acme.com/session/sso_login"),
    "no-return-url": _signed(f"nonce={NONCE}".encode()),
    "no-nonce": _signed(b"return_sso_url=https%3A%2F%2Fforum.acme.com%2F"),
    "nonce-twice": _signed(f"nonce={NONCE}&nonce=other-nonce-1234&return_sso_url=x".encode()),
    "not-utf8": _signed(b"nonce=\xff\xfe&return_sso_url=x"),
    "not-a-query": _signed(b"just some words"),
    "huge": _signed(b"nonce=" + b"a" * 5000 + b"&return_sso_url=https%3A%2F%2Fforum.acme.com%2F"),
}


@pytest.mark.parametrize("query", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_bad_request_is_refused_and_nothing_is_signed(skin: Skin, query: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "sso_middleware"):
        r = skin.issuer(services=[discourse()]).get(f"/sso/discourse?{query}", headers={"X-User": "ada"})
    assert 400 <= r.status < 500 and "Location" not in r.headers
    assert "sig=" not in r.text and SECRET not in caplog.text
    assert "refused request service=discourse code=" in caplog.text


def test_an_anonymous_user_signs_in_and_the_round_trip_resumes(skin: Skin) -> None:
    client = skin.issuer(services=[discourse()], login_url="/login")
    start = f"/sso/discourse?{request_from_pydiscourse()}"
    r = client.get(start)
    assert r.status == 303 and r.location.startswith("/login?next=")
    resumed = unquote(r.location.split("next=", 1)[1])
    assert resumed == start  # after the app's own login, the same signed request comes back
    assert answer_fields(client.get(resumed, headers={"X-User": "ada"}).location)["nonce"] == NONCE


def test_discourse_configuration_mistakes(skin: Skin) -> None:
    from sso_middleware.placements import SignedPayload
    from sso_middleware.services import Destination, TokenRules

    with pytest.raises(ConfigurationError, match="forum's https URL"):
        services.discourse(secret=SECRET, url="forum.acme.com")
    with pytest.raises(ConfigurationError, match="empty"):
        services.discourse(secret="", url=FORUM)
    nowhere = services.generic(name="forum", key=SECRET, token=TokenRules(identity=("external_id",)),
                               destination=Destination(path="/session/sso_login", placement=SignedPayload()))
    with pytest.raises(ConfigurationError, match="starts each sign-in at the provider"):
        skin.verifier(service=nowhere)  # refused when built, not a 400 on every visit


# -- the stand-in forum (receiver) -----------------------------------------------------------


def provider_answer(location: str, user: dict[str, Any] | None = None, secret: str = SECRET) -> str:
    """The app's part, played by pydiscourse: check the forum's request, answer for ``user``
    (signed with ``secret``)."""
    query = parse_qs(urlsplit(location).query)
    nonce = pydiscourse.sso_validate(quote(query["sso"][0]), query["sig"][0], SECRET)
    back = parse_qs(base64.b64decode(query["sso"][0]).decode())["return_sso_url"][0]
    user = user or {"email": "ada@example.com", "external_id": "7", "username": "ada"}
    signed = pydiscourse.sso_redirect_url(nonce, secret, user["email"], user["external_id"], user["username"])
    return back + ("&" if "?" in back else "?") + signed.split("?", 1)[1]


def test_the_stand_in_forum_round_trip_with_pydiscourse_as_the_provider(skin: Skin) -> None:
    forum, browser = skin.verifier(service=discourse(provider="https://app.acme.com/sso/discourse"))
    start = browser.get("/session/sso_login?next=/t/welcome")
    assert start.status == 303 and start.location.startswith("https://app.acme.com/sso/discourse?sso=")
    back = provider_answer(start.location)
    assert urlsplit(back).path == "/session/sso_login"
    parts = urlsplit(back)
    r = browser.get(f"{parts.path}?{parts.query}")
    assert r.status == 303 and r.location == "/t/welcome"
    assert browser.get("/latest").json()["user"] == "7"
    login = forum.logins[-1]
    assert (login.principal.id, login.principal.email) == ("7", "ada@example.com")
    assert login.claims["username"] == "ada"
    json, answer = {"Accept": "application/json"}, f"{parts.path}?{parts.query}"
    # the same answer again in this browser (back button) continues its session ...
    assert browser.get(answer, headers=json).location == "/t/welcome"
    # ... in another browser it is refused: no round trip of its own ...
    assert browser.stranger().get(answer, headers=json).json()["error"] == "token_invalid_claim"
    # ... and even with this browser's nonce cookie copied over, the nonce was used once
    thief = browser.stranger()
    thief.set_cookie("sso_session_discourse_nonce", browser.cookie("sso_session_discourse_nonce") or "")
    assert thief.get(answer, headers=json).json()["error"] == "token_replayed"


@pytest.mark.parametrize(("start_at", "lands"), [
    ("/session/sso?return_path=/top", "/top"),  # where Discourse itself starts (meta.discourse.org/t/109290)
    ("/session/sso", "/"),
    ("/session/sso?return_path=https://evil.example/", "/"),  # a same-site path only
    ("/session/sso_login?next=/t/welcome", "/t/welcome"),  # the stand-in's older start keeps working
], ids=["session-sso-return-path", "session-sso", "session-sso-foreign-return-path", "sso-login-next"])
def test_the_stand_in_forum_starts_where_discourse_does(skin: Skin, start_at: str, lands: str) -> None:
    forum, browser = skin.verifier(service=discourse(provider="https://app.acme.com/sso/discourse"))
    start = browser.get(start_at)
    assert start.status == 303 and start.location.startswith("https://app.acme.com/sso/discourse?sso=")
    back = urlsplit(provider_answer(start.location))
    assert back.path == "/session/sso_login"  # the answer comes back where Discourse takes it
    r = browser.get(f"{back.path}?{back.query}")
    assert r.status == 303 and r.location == lands
    assert browser.get("/latest").json()["user"] == "7" and forum.logins[-1].principal.id == "7"


def test_the_entry_path_only_starts_round_trips(skin: Skin) -> None:
    _, browser = skin.verifier(service=discourse(provider="https://app.acme.com/sso/discourse"))
    start = browser.get("/session/sso")
    back = urlsplit(provider_answer(start.location))
    # an answer presented at /session/sso is not taken there: it starts another round trip
    again = browser.get(f"/session/sso?{back.query}")
    assert again.status == 303 and again.location.startswith("https://app.acme.com/sso/discourse?sso=")
    assert browser.get("/latest").json()["user"] is None
    assert browser.request("POST", "/session/sso").status == 405
    assert browser.get("/session/ssox").json()["path"] == "/session/ssox"  # not ours: the app's
    with pytest.raises(ConfigurationError, match="entry"):
        from sso_middleware.placements import SignedPayload

        SignedPayload("https://app.acme.com/sso/discourse", entry="https://evil.example/x")


@pytest.mark.parametrize("cookie", ["\u00e9t\u00e9-nonce-1234", "\udcff", "1.2.3", "x" * 300])
def test_a_nonce_cookie_of_any_text_is_refused_cleanly(skin: Skin, cookie: str) -> None:
    """Issue 22 (4): a non-ASCII nonce cookie with a validly signed answer made
    ``hmac.compare_digest`` raise TypeError (a 500) on both skins."""
    _, browser = skin.verifier(service=discourse(provider="https://app.acme.com/sso/discourse"))
    answer = _answer_for(browser)
    raw = f"sso_session_discourse_nonce={cookie}".encode("utf-8", "surrogatepass")
    sent: Any = raw.decode("latin-1") if skin.name == "wsgi" else raw  # the bytes a browser sends
    r = browser.stranger().get(answer, headers={"Accept": "application/json", "Cookie": sent})
    assert (r.status, r.json()["error"]) == (401, "token_invalid_claim")


@pytest.mark.parametrize("nonce", ["\u00e9" * 20, "\u00b2" * 10 + ".abc.def", "12.34"])
def test_an_answer_whose_nonce_is_not_ours_in_shape_is_refused_cleanly(skin: Skin, nonce: str) -> None:
    _, browser = skin.verifier(service=discourse(provider="https://app.acme.com/sso/discourse"))
    browser.get("/session/sso_login")
    forged = pydiscourse.sso_redirect_url(nonce, SECRET, "ada@example.com", "7", "ada").split("?", 1)[1]
    r = browser.get(f"/session/sso_login?{forged}", headers={"Accept": "application/json"})
    assert (r.status, r.json()["error"]) == (401, "token_invalid_claim")


def _answer_for(browser: Any, **kw: Any) -> str:
    start = browser.get("/session/sso_login")
    parts = urlsplit(provider_answer(start.location, **kw))
    return f"{parts.path}?{parts.query}"


def test_the_stand_in_refuses_what_discourse_refuses(skin: Skin, clock: Clock) -> None:
    service = discourse(provider="https://app.acme.com/sso/discourse")
    _, browser = skin.verifier(service=service, clock=clock)
    json = {"Accept": "application/json"}
    # an answer for a round trip another browser began (login CSRF)
    stolen = _answer_for(browser.stranger())
    assert browser.get(stolen, headers=json).json()["error"] == "token_invalid_claim"
    # a nonce this forum never issued, correctly signed by the provider
    forged = pydiscourse.sso_redirect_url(NONCE, SECRET, "ada@example.com", "7", "ada").split("?", 1)[1]
    assert browser.get(f"/session/sso_login?{forged}", headers=json).json()["error"] == "token_invalid_claim"
    # signed with another secret
    wrong = _answer_for(browser, secret="another-forums-secret-0123")
    assert browser.get(wrong, headers=json).json()["error"] == "token_bad_signature"
    # answered after the nonce's 10 minutes
    late = _answer_for(browser)
    clock.advance(601)
    assert browser.get(late, headers=json).json()["error"] == "token_expired"
    # no external_id
    missing = _answer_for(browser, user={"email": "ada@example.com", "external_id": "", "username": "ada"})
    assert browser.get(missing, headers=json).json()["error"] == "token_missing_claim"


def test_discourse_as_the_identity_provider_starts_at_its_sso_provider_endpoint(skin: Skin) -> None:
    _, browser = skin.verifier(service=discourse())
    start = browser.get("/session/sso_login")
    assert start.location.startswith(f"{FORUM}/session/sso_provider?sso=")
    assert provider_answer(start.location)  # pydiscourse validates the request we signed


# -- both of ours, end to end ----------------------------------------------------------------


def test_our_issuer_and_our_stand_in_forum_in_one_round_trip(skin: Skin) -> None:
    app = skin.issuer(services=[discourse(extra_claims={"groups": ["beta"]})])
    forum = StandIn(discourse(provider="https://app.acme.com/sso/discourse"))
    login = forum.round_trip(lambda url: app.get(url, headers={"X-User": "ada"}))
    assert login.principal.id == "7"
    assert (login.claims["groups"], login.claims["require_activation"]) == ("beta", "true")
    # the app refuses a forged request, and the plugin says so with the code
    with pytest.raises(AssertionError, match="refused to send the browser on: 401 token_bad_signature"):
        forum.follow(app.get(f"/sso/discourse?{request_from_pydiscourse(secret='another-secret-01')}",
                             headers={"X-User": "ada"}))


@pytest.mark.network
def test_round_trip_over_real_servers(skin: Skin) -> None:
    import httpx

    issuer = skin.module.IssuerMiddleware(skin.echo, services=[discourse()], user=lambda r: USERS["ada"])
    forum = StandIn(discourse(provider="https://app.acme.com/sso/discourse"))
    with serve(skin.name, issuer) as app_url, httpx.Client() as browser:
        login = forum.round_trip(lambda url: browser.get(app_url + url))
    assert login.principal.email == "ada@example.com"


def test_pydiscourse_refuses_a_tampered_answer_of_ours(skin: Skin) -> None:
    r = skin.issuer(services=[discourse()]).get(f"/sso/discourse?{request_from_pydiscourse()}",
                                                headers={"X-User": "ada"})
    query = parse_qs(urlsplit(r.location).query)
    tampered = base64.b64encode(base64.b64decode(query["sso"][0]).replace(b"ada%40", b"eve%40")).decode()
    with pytest.raises(DiscourseError):
        pydiscourse.sso_validate(quote(tampered), query["sig"][0], SECRET)
