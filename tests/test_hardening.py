"""Edges an outside attack run found: each pinned on both skins (issue "Hardening")."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

import pytest
from helpers import KEY, Clock, Skin, call_asgi, call_wsgi

from sso_middleware import ConfigurationError, services
from sso_middleware.errors import RedirectNotAllowed
from sso_middleware.keys import Key
from sso_middleware.redirects import AllowedHosts, check_url, safe_relative_path
from sso_middleware.tokens import sign

NOW = 1_800_000_000


def frill() -> Any:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def token(**claims: Any) -> str:
    base = {"id": 7, "email": "ada@example.com", "name": "Ada", "iat": NOW, "exp": NOW + 60, "jti": "h1"}
    base.update(claims)
    return sign({k: v for k, v in base.items() if v is not None}, Key(KEY))


# 1. open redirect after sign-in -------------------------------------------------------


@pytest.mark.parametrize("path", ["//evil.com/", "///evil.com/", "/%2F%2Fevil.com/", "//.", "//a..b/",
                                  "//" + "a" * 70 + ".com/", "/\\evil.com/", "/%5C%5Cevil.com/"])
def test_any_page_receiver_never_sends_the_browser_off_site(skin: Skin, path: str) -> None:
    # raw requests, as uvicorn and gunicorn pass such paths on (test clients would tidy them)
    middleware = skin.module.VerifierMiddleware(skin.echo, service=frill(), clock=Clock(NOW))
    call = call_wsgi if skin.name == "wsgi" else call_asgi
    status, headers, _ = call(middleware, ("GET", f"{path}?ssoToken={token()}", [], b""))
    location = dict(headers)["location"]  # a good token: signed in, landing on a same-site path
    assert status == 303 and safe_relative_path(location) == location, location
    assert location == "/" or location.startswith("/%5C")  # a backslash stays a quoted path character
    assert len(middleware.logins) == 1


def test_issuer_refuses_a_return_url_whose_path_starts_with_two_slashes() -> None:
    hosts = AllowedHosts(["feedback.acme.com"])
    assert check_url("https://feedback.acme.com/b/ideas", hosts)
    for url in ("https://feedback.acme.com//evil.com/", "https://feedback.acme.com//"):
        with pytest.raises(RedirectNotAllowed):
            check_url(url, hosts)


# 6. users with non-JSON values ----------------------------------------------------------


def test_uuid_ids_just_work(skin: Skin) -> None:
    uid = uuid.uuid4()
    client = skin.issuer(services=[frill()], user=lambda r: {"id": uid, "email": "a@x.com", "name": "A"})
    r = client.get("/sso/frill")
    assert r.status == 303 and "ssoToken=" in r.location


@pytest.mark.parametrize("value", [Decimal("1.5"), b"bytes", object()])
def test_other_values_are_a_logged_error_naming_the_claim(
    skin: Skin, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = skin.issuer(services=[frill()], user=lambda r: {"id": value, "email": "a@x.com", "name": "A"})
    with caplog.at_level(logging.INFO, logger="sso_middleware"):
        r = client.get("/sso/frill")
    assert r.status == 500 and "eyJ" not in r.text and "'id'" not in r.text
    (record,) = caplog.records
    assert record.levelname == "ERROR" and "the claim 'id'" in record.getMessage()


# 7. identity and size limits -------------------------------------------------------------


@pytest.mark.parametrize("ident", ["\ud800", "a" * 513, "line\nbreak", 2**64, [1]],
                         ids=["lone-surrogate", "too-long", "control-char", "huge-int", "list"])
def test_unusable_identities_are_refused_before_anything_is_consumed(skin: Skin, ident: Any) -> None:
    middleware, client = skin.verifier(key=KEY, clock=Clock(NOW))
    r = client.get(f"/sso?token={token(sub=ident)}", headers={"Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "token_invalid_claim"
    assert not middleware.logins and "Set-Cookie" not in r.headers


def test_session_cookie_stays_under_4096_bytes(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW))
    r = client.get(f"/sso?token={token(sub='s' * 512, email='e' * 256, name='n' * 256, pad='p' * 3000)}")
    assert r.status == 303 and len(r.headers["Set-Cookie"]) <= 4096


# 8. one-time use on the claims' canonical form -------------------------------------------


def test_same_claims_in_another_order_are_a_replay(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW))
    first = sign({"sub": "ada", "exp": NOW + 60}, Key(KEY))
    again = sign({"exp": NOW + 60, "sub": "ada"}, Key(KEY))
    assert first != again
    assert client.get(f"/sso?token={first}").status == 303
    assert client.stranger().get(f"/sso?token={again}").status == 401


# 9. configurations refused at construction --------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"leeway": float("nan")}, "finite", id="nan-leeway"),
        pytest.param({"max_lifetime": float("inf")}, "finite", id="infinite-lifetime"),
        pytest.param({"max_age": float("nan")}, "finite", id="nan-max-age"),
        pytest.param({"session_key": KEY}, "equals a login key", id="session-key-is-login-key"),
        pytest.param({"key": "\0" * 32}, "all zero", id="all-zero-key"),
        pytest.param({"key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"}, "PEM",
                     id="pem-as-secret"),
        pytest.param({"key": "ssh-ed25519 AAAAC3Nza user@host"}, "SSH", id="ssh-as-secret"),
        pytest.param({"key": '{"kty":"oct","k":"c2VjcmV0"}'}, "JWK", id="jwk-as-secret"),
    ],
)
def test_bad_verifier_configurations(skin: Skin, options: dict[str, Any], message: str) -> None:
    options.setdefault("key", KEY)
    with pytest.raises(ConfigurationError, match=message):
        skin.verifier(**options)


def test_invoiced_docs_key_with_braces_is_still_a_secret() -> None:
    from sso_middleware.keys import ShortKeyWarning

    with pytest.warns(ShortKeyWarning):
        assert Key("{sso_key_from_dashboard}").secret == b"{sso_key_from_dashboard}"


def test_async_extractor_on_wsgi_is_refused_at_construction() -> None:
    async def current_user(request: Any) -> None:
        return None

    with pytest.raises(ConfigurationError, match="async"):
        Skin("wsgi").issuer(services=[frill()], user=current_user)
    Skin("asgi").issuer(services=[frill()], user=current_user)  # fine where it can be awaited


# 10. small ones ----------------------------------------------------------------------------


def test_exp_zero_near_the_epoch_is_handled(skin: Skin) -> None:
    clock = Clock(10.0)
    _, client = skin.verifier(key=KEY, clock=clock)
    assert client.get(f"/sso?token={sign({'sub': 'ada', 'exp': 0}, Key(KEY))}").status == 303  # in leeway
    clock.advance(20)
    r = client.get(f"/sso?token={sign({'sub': 'bob', 'exp': 0}, Key(KEY))}",
                   headers={"Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "token_expired"


def test_client_gone_mid_body_gets_no_answer_and_no_error() -> None:
    import asyncio

    from sso_middleware import asgi
    from sso_middleware.placements import FormField

    app = asgi.VerifierMiddleware(lambda s, r, c: None, key=KEY, placement=FormField("jwt"))
    messages = iter([{"type": "http.request", "body": b"jwt=abc", "more_body": True},
                     {"type": "http.disconnect"}])
    sent: list[Any] = []

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/sso", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent == [] and not app.logins


# 4. cookie tossing -----------------------------------------------------------------------------


def test_https_session_uses_the_host_prefix_and_ignores_a_planted_cookie(skin: Skin) -> None:
    _, client = skin.verifier(key=KEY, clock=Clock(NOW))
    r = client.get(f"/sso?token={token(sub='ada')}", https=True)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sso_session=") and "Secure" in cookie and "Domain" not in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert client.get("/", https=True).json()["user"] == "ada"
    # what a sibling subdomain could plant: a plain-named cookie, even a valid one, is ignored on https
    app = skin.module.VerifierMiddleware(skin.echo, key=KEY, clock=Clock(NOW))
    other = skin.client(app)
    other.set_cookie("sso_session", value)
    assert other.get("/", https=True).json()["user"] is None
    assert other.get("/").json()["user"] == "ada"  # (the same cookie is sent, and valid, over http)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("https://evil.example/x", "detail=host 'evil.example' is not listed"),
        ("http://feedback.acme.com/x", "detail=not an https URL with a valid host"),
        ("https://feedback.acme.com//evil.example/", "detail=its path starts with //"),
    ],
)
def test_refusals_are_logged_once_with_a_safe_detail(
    skin: Skin, url: str, detail: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = skin.issuer(services=[frill()])
    with caplog.at_level(logging.INFO, logger="sso_middleware"):
        r = client.get(f"/sso/frill?redirect={url}", headers={"X-User": "ada"})
    assert r.status == 400
    (record,) = caplog.records
    assert record.getMessage() == f"refused request service=frill code=redirect_not_allowed {detail}"


# 3. a header whose members are not strings (issue 22, 1) --------------------------------


def _alg_not_a_string(alg: Any, signature: str = "AAAA") -> str:
    import json

    from sso_middleware.tokens import b64encode

    claims = {"sub": "ada", "id": 7, "email": "ada@example.com", "iat": NOW, "exp": NOW + 60}
    header = b64encode(json.dumps({"alg": alg}).encode())
    return f"{header}.{b64encode(json.dumps(claims).encode())}.{signature}"


@pytest.mark.parametrize("alg", [[], {}, 5, None], ids=["list", "object", "number", "null"])
@pytest.mark.network
def test_a_non_string_alg_is_a_clean_refusal_in_every_placement_on_a_real_server(skin: Skin,
                                                                                 alg: Any) -> None:
    """``{"alg": []}`` with a signature fitting no key raised TypeError in every verifier: a 500
    through a query token, ``ssoToken`` on any page of a stand-in, a path token, and the session
    cookie on any page (a planted cookie broke every page for that browser)."""
    import urllib.error
    import urllib.request

    from servers import serve

    from sso_middleware import services

    bad = _alg_not_a_string(alg)
    apps = {
        "generic": skin.module.VerifierMiddleware(skin.echo, key=KEY, clock=Clock(NOW)),
        "frill": skin.module.VerifierMiddleware(skin.echo, service=frill(), clock=Clock(NOW)),
        "invoiced": skin.module.VerifierMiddleware(
            skin.echo, service=services.invoiced(key=KEY, company="acme"), clock=Clock(NOW)),
    }
    asked = {
        "generic": [(f"/sso?token={bad}", {}), ("/any/page", {"Cookie": f"sso_session={bad}"})],
        "frill": [(f"/ideas?ssoToken={bad}", {})],
        "invoiced": [(f"/login/{bad}", {})],
    }
    for name, app in apps.items():
        with serve(skin.name, app) as base:
            for path, headers in asked[name]:
                request = urllib.request.Request(base + path, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status = response.status
                except urllib.error.HTTPError as e:
                    status = e.code
                    e.close()
                assert status in (200, 400, 401), (name, path, status)
