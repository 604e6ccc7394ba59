from __future__ import annotations

from typing import Any

import pytest
from conftest import KEY, Skin

from sso_middleware import ConfigurationError, Principal, Service, services


def base(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"name": "svc", "key": KEY, "claims": lambda u: {"sub": u.id},
                               "target": "https://svc.example.com/sso"}
    options.update(overrides)
    return options


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"name": "Has Space"}, "service name", id="bad-name"),
        pytest.param({"name": "a/b"}, "service name", id="slash-in-name"),
        pytest.param({"claims": {"sub": 1}}, "callable", id="claims-not-callable"),
        pytest.param({"placement": "header"}, "placement", id="bad-placement"),
        pytest.param({"token_param": "to ken"}, "token_param", id="bad-token-param"),
        pytest.param({"echo": ["ok", "no&"]}, "echo", id="bad-echo"),
        pytest.param({"ttl": 0}, "ttl", id="ttl-zero"),
        pytest.param({"ttl": 90000}, "ttl", id="ttl-too-long"),
        pytest.param({"ttl": 1.5}, "ttl", id="ttl-float"),
        pytest.param({"key": ""}, "empty", id="empty-key"),
        pytest.param({"key": None}, "no key", id="missing-key"),
        pytest.param({"algorithm": "none"}, "not supported", id="alg-none"),
        pytest.param({"target": "http://svc.example.com/sso"}, "https", id="http-target"),
        pytest.param({"target": "https://u:p@svc.example.com/"}, "https", id="userinfo-target"),
        pytest.param({"target": "svc.example.com/sso"}, "https", id="relative-target"),
        pytest.param({"target": "https://svc.example.com/{token}"}, "placement='path'",
                     id="token-without-path-placement"),
        pytest.param({"placement": "path"}, "end its path", id="path-placement-without-token"),
        pytest.param({"target": None, "placement": "form"}, "needs a target", id="form-without-target"),
        pytest.param({"target": None}, "somewhere to go", id="nowhere-to-go"),
        pytest.param({"target": None, "return_param": "redirect"}, "hosts is empty", id="no-hosts"),
        pytest.param({"hosts": ["https://x.com"]}, "host pattern", id="bad-host"),
        pytest.param({"default_return": "/relative"}, "default_return", id="relative-default"),
    ],
)
def test_service_configuration_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Service(**base(**overrides))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: services.invoiced(key=KEY), "company"),
        (lambda: services.invoiced(key=KEY, company="Acme Inc"), "company"),
        (lambda: services.invoiced(key=KEY, company="acme", issuer=""), "issuer"),
        (lambda: services.frill(key=KEY, hosts="feedback.acme.com"), "list"),
        (lambda: services.zendesk(key=KEY, subdomain="a.b"), "subdomain"),
        (lambda: services.featurebase(key=KEY, organization=""), "organization"),
    ],
)
def test_preset_configuration_errors(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_configuration_messages_never_contain_the_key() -> None:
    for overrides in ({"ttl": 0}, {"target": "http://x"}, {"placement": "path"}):
        with pytest.raises(ConfigurationError) as e:
            Service(**base(**overrides))
        assert KEY not in str(e.value)


def test_claim_builder_may_not_set_reserved_claims(skin: Skin) -> None:
    svc = Service(**base(claims=lambda u: {"sub": u.id, "exp": 1}))
    with pytest.raises(ConfigurationError, match="iat, exp and jti"):
        svc.build_claims(Principal(1))
    r = skin.issuer(services=[svc]).get("/sso/svc", headers={"X-User": "ada"})
    assert r.status == 500 and "eyJ" not in r.text


def test_generic_service_without_return_url_and_echo_limits(skin: Skin) -> None:
    svc = services.generic(name="svc", key=KEY, claims=lambda u: {"sub": str(u.id)},
                           target=None, return_param="back", hosts=["svc.example.com"])
    client = skin.issuer(services=[svc])
    r = client.get("/sso/svc", headers={"X-User": "ada", "Accept": "application/json"})
    assert r.status == 400 and r.json()["error"] == "redirect_missing"
    canny = services.canny(key=KEY)
    r = skin.issuer(services=[canny]).get("/sso/canny?companyID=" + "x" * 600,
                                          headers={"X-User": "ada"})
    assert r.status == 400 and "eyJ" not in r.text


def test_invoiced_customer_id_by_attribute_and_missing(skin: Skin) -> None:
    svc = services.invoiced(key=KEY, company="acme", customer_id="invoiced_id")
    client = skin.issuer(services=[svc])
    assert client.get("/sso/invoiced", headers={"X-User": "ada"}).status == 303
    r = client.get("/sso/invoiced", headers={"X-User": "bob", "Accept": "application/json"})
    assert r.status == 400 and r.json() == {
        "error": "missing_claim",
        "message": "Your account has no invoiced_id, which this service requires.",
    }


HELPSCOUT_KEY = "helpscout-docs-key-" + "0123456789abcdef" * 3  # 67 bytes: HS512 wants >= 64


def test_helpscout_forwards_a_relative_return_to(skin: Skin) -> None:
    from urllib.parse import parse_qs, urlsplit

    import jwt as pyjwt

    svc = services.helpscout(key=HELPSCOUT_KEY, site="https://docs.acme.com/")
    client = skin.issuer(services=[svc])
    r = client.get("/sso/helpscout?returnTo=%2Farticle%2F12-setup%3Flang%3Den",
                   headers={"X-User": "ada"})
    parts = urlsplit(r.location)
    assert (parts.netloc, parts.path) == ("docs.acme.com", "/authcallback")
    query = parse_qs(parts.query)
    assert query["returnTo"] == ["/article/12-setup?lang=en"]
    claims = pyjwt.decode(query["token"][0], HELPSCOUT_KEY, algorithms=["HS512"])
    assert (claims["email"], claims["name"]) == ("ada@example.com", "Ada Lovelace")
    for bad in ("https://evil.com/", "//evil.com", "/\\\\evil.com", "article"):
        r = client.get(f"/sso/helpscout?returnTo={bad}", headers={"X-User": "ada"})
        assert r.status == 400 and "eyJ" not in r.text


def test_helpscout_round_trip_and_config() -> None:
    from sso_middleware.testing import StandIn

    svc = services.helpscout(key=HELPSCOUT_KEY, site="https://docs.acme.com")
    stand_in = StandIn(svc)
    issuer = Skin("wsgi").issuer(services=[svc])
    login = stand_in.follow(issuer.get("/sso/helpscout", headers={"X-User": "ada"}))
    assert login.principal.id == "ada@example.com"
    # the stand-in lands where Help Scout would: on the returnTo page
    _, client = Skin("wsgi").verifier(service=svc)
    location = issuer.get("/sso/helpscout?returnTo=/article/7", headers={"X-User": "ada"}).location
    assert client.get(location.replace("https://docs.acme.com", "")).location == "/article/7"
    for site in ("docs.acme.com", "http://docs.acme.com", "https://docs.acme.com/a/b"):
        with pytest.raises(ConfigurationError, match="site"):
            services.helpscout(key=HELPSCOUT_KEY, site=site)
    with pytest.raises(ConfigurationError, match="relative_return"):
        Service(**base(relative_return=True))
