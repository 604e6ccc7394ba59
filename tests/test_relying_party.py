"""The pytest plugin's stand-in OpenID Connect relying party (issue 26, 5): the code flow with
PKCE against the app, in process on both skins and live, signed in by a header, a cookie or
the app's own login page; and what it refuses."""

from __future__ import annotations

import base64
import json
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import USERS, Clock, Skin

from sso_middleware.keys import Key
from sso_middleware.oidc import Client, OpenIDProvider
from sso_middleware.relying_party import RelyingParty, RelyingPartyRefused
from sso_middleware.testing import OpenIDLogin

ISSUER = "https://app.acme.com/sso"
RSA = Key.generate("RS256")
RSA_NEW = Key.generate("RS256")
EC = Key.generate("ES256")
SECRET = "grafana-client-secret-0123456789abcdef"
GRAFANA = Client("grafana", secret=SECRET, redirect_uris=["https://grafana.acme.com/login/generic_oauth"],
                 extra_claims=lambda p: {"role": "Admin" if "admins" in p.attributes.get("groups", ()) else
                                         "Viewer"})
SPA = Client("spa", redirect_uris=["https://spa.acme.com/callback"], scopes=["openid", "email"])
ADA = {"X-User": "ada"}
METABASE = Client("metabase", secret=SECRET, redirect_uris=["https://metabase.acme.com/auth/sso"],
                  algorithm="ES256")


def user(request: Any) -> dict[str, Any] | None:
    """Signed in by an X-User header, or by the ``who`` cookie the login page sets."""
    name = request.headers.get("x-user")
    if name is None:
        cookie: SimpleCookie = SimpleCookie(request.headers.get("cookie") or "")
        name = cookie["who"].value if "who" in cookie else ""
    found = USERS.get(name)
    if found is None:
        return None
    cookie = SimpleCookie(request.headers.get("cookie") or "")
    when = {"auth_time": int(cookie["at"].value)} if "at" in cookie else {}  # when the password was checked
    return {**found, "groups": ["admins"], "preferred_username": name, **when}


def _login_answer(method: str, query: str, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """The app's own login page: a form on GET; on POST ``user=ada`` the cookie and back to next."""
    if method == "GET":
        return "200 OK", [("Content-Type", "text/html")], b"<form method=post><input name=user></form>"
    form = parse_qs(body.decode())
    name = form.get("user", [""])[0]
    if name not in USERS:
        return "401 Unauthorized", [("Content-Type", "text/html")], b"<p>who are you?</p>"
    next_url = parse_qs(query).get("next", ["/"])[0]
    cookies = [("Set-Cookie", f"who={name}; Path=/; HttpOnly"),
               ("Set-Cookie", f"at={int(time.time())}; Path=/")]
    return "303 See Other", [("Location", next_url), *cookies], b""


def wsgi_site(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/login":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        status, headers, data = _login_answer(environ["REQUEST_METHOD"], environ["QUERY_STRING"], body)
    else:
        status, headers, data = "200 OK", [("Content-Type", "text/plain")], b"home"
    start_response(status, headers)
    return [data]


async def asgi_site(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/login":
        status, headers, data = _login_answer(scope["method"], scope["query_string"].decode(), body)
    else:
        status, headers, data = "200 OK", [("Content-Type", "text/plain")], b"home"
    await send({"type": "http.response.start", "status": int(status.split()[0]),
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
    await send({"type": "http.response.body", "body": data})


def app(skin: Skin, issuer: str = ISSUER, **options: Any) -> Any:
    options.setdefault("key", [RSA, EC])
    options.setdefault("clients", [GRAFANA, SPA, METABASE])
    provider = OpenIDProvider(issuer=issuer, **options)
    site = wsgi_site if skin.name == "wsgi" else asgi_site
    return skin.module.IssuerMiddleware(site, services=[], user=user, login_url="/login", openid=provider)


def test_ada_signs_in_to_grafana_by_a_header(skin: Skin, sso_relying_party: Any) -> None:
    grafana = sso_relying_party(app(skin), GRAFANA, issuer=ISSUER)
    login = grafana.sign_in(headers={"X-User": "ada"})
    assert isinstance(login, OpenIDLogin)
    assert (login.sub, login.claims["aud"], login.claims["iss"]) == ("7", "grafana", ISSUER)
    assert login.claims["email"] == "ada@example.com" and login.claims["role"] == "Admin"
    assert login.claims["groups"] == ["admins"] and login.header["kid"] == RSA.kid
    assert login.userinfo["preferred_username"] == "ada" and login.userinfo["sub"] == "7"
    assert login.scope == "openid profile email groups" and "nonce" in login.claims
    assert "access_token" not in repr(login)  # the tokens are kept, never shown


def test_through_the_apps_own_login_page(skin: Skin) -> None:
    login = RelyingParty(app(skin), GRAFANA, issuer=ISSUER).sign_in(login={"user": "ada"})
    assert login.claims["name"] == "Ada Lovelace"


def test_by_a_cookie_the_test_sets(skin: Skin) -> None:
    login = RelyingParty(app(skin), GRAFANA, issuer=ISSUER).sign_in(cookies={"who": "ada"})
    assert login.userinfo["email"] == "ada@example.com"


def test_public_client_es256_client_and_post_authentication(skin: Skin) -> None:
    site = app(skin)
    spa = RelyingParty(site, SPA, issuer=ISSUER).sign_in(headers={"X-User": "ada"}, nonce=False)
    assert "nonce" not in spa.claims and "name" not in spa.userinfo and spa.scope == "openid email"
    metabase = RelyingParty(site, METABASE, issuer=ISSUER, auth="client_secret_post")
    login = metabase.sign_in(headers={"X-User": "ada"})
    assert login.header["alg"] == "ES256" and login.header["kid"] == EC.kid


def test_through_the_consent_page_of_an_untrusted_client(skin: Skin) -> None:
    wiki = Client("wiki", secret=SECRET, redirect_uris=["https://wiki.acme.com/cb"], trusted=False)
    site = app(skin, clients=[GRAFANA, wiki])
    login = RelyingParty(site, wiki, issuer=ISSUER).sign_in(login={"user": "ada"})  # signs in, then Continue
    assert login.claims["aud"] == "wiki" and login.userinfo["email"] == "ada@example.com"
    with pytest.raises(RelyingPartyRefused, match="access_denied"):
        RelyingParty(site, wiki, issuer=ISSUER).sign_in(headers={"X-User": "ada"}, consent="deny")


def test_prompt_login_signs_in_again_through_the_apps_login_page(skin: Skin) -> None:
    """Signed in an hour ago; the relying party asks for a fresh sign-in: the login page asks, the
    flow resumes once, and the ID token's auth_time is the new sign-in's."""
    long_ago = int(time.time()) - 3600
    rp = RelyingParty(app(skin), GRAFANA, issuer=ISSUER)
    login = rp.sign_in(cookies={"who": "ada", "at": str(long_ago)}, login={"user": "ada"}, prompt="login")
    assert login.claims["auth_time"] >= long_ago + 3600 - 5
    again = RelyingParty(app(skin), GRAFANA, issuer=ISSUER)
    with pytest.raises(RelyingPartyRefused, match="/login answered 200"):  # the login page asks again
        again.sign_in(cookies={"who": "ada", "at": str(long_ago)}, prompt="login")


def test_max_age_is_asked_for_and_auth_time_checked(skin: Skin) -> None:
    def signed_in_at(when: float) -> Any:
        def extractor(request: Any) -> Any:
            return {"id": 7, "email": "ada@example.com", "auth_time": when}
        return extractor

    provider = OpenIDProvider(issuer=ISSUER, key=[RSA, EC], clients=[GRAFANA])
    site = wsgi_site if skin.name == "wsgi" else asgi_site
    recently = int(time.time()) - 30
    fresh = skin.module.IssuerMiddleware(site, services=[], user=signed_in_at(recently), login_url="/login",
                                         openid=provider)
    assert RelyingParty(fresh, GRAFANA, issuer=ISSUER).sign_in(max_age=600).claims["auth_time"] == recently
    long_ago = signed_in_at(recently - 3600)
    stale = skin.module.IssuerMiddleware(site, services=[], user=long_ago, login_url=None, openid=provider)
    with pytest.raises(RelyingPartyRefused, match="login_required"):  # no login page to send the user to
        RelyingParty(stale, GRAFANA, issuer=ISSUER).sign_in(max_age=600)


def test_by_client_id_secret_and_redirect_uri() -> None:
    rp = RelyingParty(app(Skin("wsgi")), "grafana", issuer=ISSUER, secret=SECRET,
                      redirect_uri="https://grafana.acme.com/login/generic_oauth", scope="openid")
    assert set(rp.sign_in(headers={"X-User": "ada"}).userinfo) == {"sub", "role"}  # extra_claims ride along


def test_nobody_signed_in_says_so(skin: Skin) -> None:
    rp = RelyingParty(app(skin), GRAFANA, issuer=ISSUER)
    with pytest.raises(RelyingPartyRefused, match=r"is the user signed in\?"):
        rp.sign_in()
    with pytest.raises(RelyingPartyRefused, match="login_required") as silent:
        rp.sign_in(prompt="none")
    assert silent.value.step == "authorize"
    with pytest.raises(RelyingPartyRefused, match="login: status_401"):  # the login page refused
        rp.sign_in(login={"user": "mallory"})


def test_refusals(skin: Skin) -> None:
    site = app(skin)
    with pytest.raises(RelyingPartyRefused, match="token: invalid_client"):
        RelyingParty(site, "grafana", issuer=ISSUER, secret="not-the-secret-0123456789",
                     redirect_uri="https://grafana.acme.com/login/generic_oauth").sign_in(headers=ADA)
    with pytest.raises(RelyingPartyRefused, match="authorize: redirect_uri_mismatch"):
        RelyingParty(site, "grafana", issuer=ISSUER, secret=SECRET,
                     redirect_uri="https://evil.example/cb").sign_in(headers={"X-User": "ada"})
    with pytest.raises(RelyingPartyRefused, match="authorize: unknown_client"):
        RelyingParty(site, "nobody", issuer=ISSUER, secret=SECRET,
                     redirect_uri="https://grafana.acme.com/login/generic_oauth").sign_in(headers=ADA)
    with pytest.raises(RelyingPartyRefused, match=r"discovery: not_json .*is the issuer URL right"):
        RelyingParty(site, GRAFANA, issuer="https://app.acme.com/other").sign_in(headers={"X-User": "ada"})


def test_discovery_issuer_must_be_exact() -> None:
    site = app(Skin("wsgi"), issuer="http://localhost/sso")
    with pytest.raises(RelyingPartyRefused, match="issuer_mismatch"):
        RelyingParty(site, "grafana", issuer="https://localhost/sso", secret=SECRET,
                      redirect_uri="https://grafana.acme.com/login/generic_oauth").metadata


def _resign(token: str, change: dict[str, Any], key: Key = RSA) -> str:
    from sso_middleware.tokens import sign

    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return sign({**claims, **change}, key)


@pytest.mark.parametrize("change, code", [
    ({"aud": "metabase"}, "InvalidAudienceError"),
    ({"iss": "https://app.acme.com/sso/"}, "InvalidIssuerError"),
    ({"nonce": "another"}, "nonce_mismatch"),
    ({"azp": "metabase"}, "azp_mismatch"),
    ({"exp": 1}, "expired"),
    ({"iat": 4_000_000_000}, "issued_in_the_future"),
    ({"sub": 7}, "InvalidSubjectError"),
])
def test_id_token_checks(change: dict[str, Any], code: str) -> None:
    rp = RelyingParty(app(Skin("wsgi")), GRAFANA, issuer=ISSUER)
    login = rp.sign_in(headers={"X-User": "ada"})
    nonce = login.claims["nonce"]
    assert rp.verify_id_token(login.tokens["id_token"], nonce=nonce)[0] == login.claims
    with pytest.raises(RelyingPartyRefused, match=code):
        rp.verify_id_token(_resign(login.tokens["id_token"], change), nonce=nonce)


def test_id_token_signature_key_and_at_hash() -> None:
    rp = RelyingParty(app(Skin("wsgi")), GRAFANA, issuer=ISSUER)
    login = rp.sign_in(headers={"X-User": "ada"})
    token, nonce = login.tokens["id_token"], login.claims["nonce"]
    head, payload, signature = token.split(".")
    with pytest.raises(RelyingPartyRefused, match="InvalidSignatureError"):
        rp.verify_id_token(f"{head}.{payload}.{signature[::-1]}", nonce=nonce)
    with pytest.raises(RelyingPartyRefused, match="jwks: unknown_kid"):  # a key the provider never published
        rp.verify_id_token(_resign(token, {}, Key.generate("RS256")), nonce=nonce)
    with pytest.raises(RelyingPartyRefused, match="nonce_mismatch"):
        rp.verify_id_token(token, nonce=None)
    with pytest.raises(RelyingPartyRefused, match="at_hash_mismatch"):
        rp.verify_id_token(token, nonce=nonce, access_token="another-access-token")
    with pytest.raises(RelyingPartyRefused, match="unexpected_alg"):
        rp.verify_id_token("eyJhbGciOiJub25lIn0.e30.", nonce=nonce)


def test_after_a_key_rotation_old_and_new_tokens_verify_through_the_jwks() -> None:
    before = RelyingParty(app(Skin("wsgi"), key=[RSA, EC]), GRAFANA, issuer=ISSUER)
    old = before.sign_in(headers={"X-User": "ada"})
    after = RelyingParty(app(Skin("wsgi"), key=[RSA_NEW, RSA, EC]), GRAFANA, issuer=ISSUER)
    assert after.sign_in(headers={"X-User": "ada"}).header["kid"] == RSA_NEW.kid
    assert after.verify_id_token(old.tokens["id_token"], nonce=old.claims["nonce"])[0]["sub"] == "7"


class TestTheClock:
    @pytest.fixture
    def sso_clock(self) -> Clock:
        return Clock(4_000_000_000.0)  # long after the app's tokens expire

    def test_the_fixture_hands_its_clock_to_the_relying_party(self, sso_relying_party: Any) -> None:
        with pytest.raises(RelyingPartyRefused, match="id_token: expired"):
            sso_relying_party(app(Skin("asgi")), GRAFANA, issuer=ISSUER).sign_in(headers={"X-User": "ada"})


def test_the_code_is_one_time() -> None:
    """A relying party replaying the callback's code gets invalid_grant."""
    rp = RelyingParty(app(Skin("wsgi")), GRAFANA, issuer=ISSUER)
    codes: list[tuple[str, str]] = []
    original = rp._redeem

    def redeem(code: str, verifier: str) -> dict[str, Any]:
        codes.append((code, verifier))
        return original(code, verifier)

    rp._redeem = redeem  # type: ignore[method-assign]
    rp.sign_in(headers={"X-User": "ada"})
    with pytest.raises(RelyingPartyRefused, match="token: invalid_grant"):
        original(*codes[0])


@pytest.mark.slow
@pytest.mark.network
def test_live_on_a_real_server(skin: Skin, sso_relying_party: Any) -> None:
    """Against a URL: every request over the network to a real server (werkzeug or uvicorn),
    the issuer the app's public name (https), the server on 127.0.0.1."""
    from servers import serve

    with serve(skin.name, app(skin)) as base:
        login = sso_relying_party(base, GRAFANA, issuer=ISSUER).sign_in(login={"user": "ada"})
    assert login.claims["email"] == "ada@example.com" and login.userinfo["groups"] == ["admins"]


def test_an_asgi_app_from_an_async_test() -> None:
    import asyncio

    async def inside() -> OpenIDLogin:
        return RelyingParty(app(Skin("asgi")), GRAFANA, issuer=ISSUER).sign_in(headers={"X-User": "ada"})

    assert asyncio.run(inside()).sub == "7"


def test_a_callback_elsewhere_is_refused() -> None:
    def elsewhere(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("302 Found", [("Location", "https://evil.example/cb?code=x")])
        return [b""]

    def site(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/sso/oidc/authorize":
            return elsewhere(environ, start_response)
        return inner(environ, start_response)

    inner = app(Skin("wsgi"))
    with pytest.raises(RelyingPartyRefused, match="redirected_elsewhere"):
        RelyingParty(site, GRAFANA, issuer=ISSUER).sign_in(headers={"X-User": "ada"})


def test_the_callback_state_and_iss_are_checked() -> None:
    rp = RelyingParty(app(Skin("wsgi")), GRAFANA, issuer=ISSUER)
    cb = "https://grafana.acme.com/login/generic_oauth"
    with pytest.raises(RelyingPartyRefused, match="state_mismatch"):
        rp._code(f"{cb}?code=c&state=other&iss={ISSUER}", "mine")
    with pytest.raises(RelyingPartyRefused, match="iss_mismatch"):
        rp._code(f"{cb}?code=c&state=mine&iss=https://evil.example", "mine")
    assert rp._code(f"{cb}?code=c&state=mine&iss={ISSUER}", "mine") == "c"
    assert urlsplit(rp.authorization_url(state="s", challenge="c" * 43)).path == "/sso/oidc/authorize"
