from __future__ import annotations

from typing import Any

import pytest
from helpers import KEY, Skin

from sso_middleware import ConfigurationError, Principal, Service, services
from sso_middleware.placements import FormField, PathSegment, QueryParameter
from sso_middleware.services import Destination, ReturnRules, TokenRules


def base(**overrides: Any) -> dict[str, Any]:
    """Service options; ``token_*``, ``dest_*`` and ``ret_*`` overrides go into the value objects."""
    token: dict[str, Any] = {"claims": lambda u: {"sub": u.id}}
    dest: dict[str, Any] = {"target": "https://svc.example.com/sso"}
    ret: dict[str, Any] = {}
    options: dict[str, Any] = {"name": "svc", "key": KEY}
    for name, value in overrides.items():
        group, _, field = name.partition("_")
        {"token": token, "dest": dest, "ret": ret}.get(group, options)[field or name] = value
    options.update(token=TokenRules(**token), destination=Destination(**dest), returns=ReturnRules(**ret))
    return options


def build(**overrides: Any) -> Service:
    return Service(**base(**overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"name": "Has Space"}, "service name", id="bad-name"),
        pytest.param({"name": "a/b"}, "service name", id="slash-in-name"),
        pytest.param({"token_claims": {"sub": 1}}, "callable", id="claims-not-callable"),
        pytest.param({"dest_placement": "header"}, "placement", id="bad-placement"),
        pytest.param({"ret_echo": ["ok", "no&"]}, "echo", id="bad-echo"),
        pytest.param({"token_ttl": 0}, "ttl", id="ttl-zero"),
        pytest.param({"token_ttl": 90000}, "ttl", id="ttl-too-long"),
        pytest.param({"token_ttl": 1.5}, "ttl", id="ttl-float"),
        pytest.param({"token_max_age": float("nan")}, "max_age", id="max-age-nan"),
        pytest.param({"key": ""}, "empty", id="empty-key"),
        pytest.param({"key": None}, "no key", id="missing-key"),
        pytest.param({"token_algorithm": "none"}, "not supported", id="alg-none"),
        pytest.param({"dest_target": "http://svc.example.com/sso"}, "https", id="http-target"),
        pytest.param({"dest_target": "https://u:p@svc.example.com/"}, "https", id="userinfo-target"),
        pytest.param({"dest_target": "svc.example.com/sso"}, "https", id="relative-target"),
        pytest.param({"dest_target": "https://svc.example.com/{token}"}, "PathSegment",
                     id="token-without-path-placement"),
        pytest.param({"dest_placement": PathSegment()}, "end its path", id="path-placement-without-token"),
        pytest.param({"dest_target": None, "dest_placement": FormField()}, "needs a target",
                     id="form-without-target"),
        pytest.param({"dest_target": None}, "somewhere to go", id="nowhere-to-go"),
        pytest.param({"dest_target": None, "ret_param": "redirect"}, "hosts is empty", id="no-hosts"),
        pytest.param({"ret_hosts": ["https://x.com"]}, "host pattern", id="bad-host"),
        pytest.param({"ret_default": "/relative"}, "default", id="relative-default"),
    ],
)
def test_service_configuration_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build(**overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: services.invoiced(key=KEY), "company"),
        (lambda: services.invoiced(key=KEY, company="Acme Inc"), "company"),
        (lambda: services.invoiced(key=KEY, company="acme", issuer=""), "issuer"),
        (lambda: services.frill(key=KEY, hosts="feedback.acme.com"), "list"),
        (lambda: services.zendesk(key=KEY, subdomain="a.b"), "subdomain"),
        (lambda: services.featurebase(key=KEY, organization=""), "organization"),
        (lambda: services.userjot(key=KEY, project_id=""), "Project ID"),
        (lambda: services.userjot(key=KEY, project_id="p-1", ttl=3601), "more than 3600 seconds"),
        (lambda: services.invoiced(key=KEY, company="acme", page="dashboard"), "page must be one of"),
        (lambda: services.frill(key=KEY, hosts=["a.com"], widget="yes"), "widget is True or False"),
        (lambda: ReturnRules("p", choices=["a"]), "set forward_as"),
        (lambda: ReturnRules("p", forward_as="p", choices=["a b"]), "plain word"),
    ],
)
def test_preset_configuration_errors(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_value_objects_are_required() -> None:
    with pytest.raises(ConfigurationError, match=r"token must be a TokenRules"):
        Service(**{**base(), "token": {"sub": 1}})
    with pytest.raises(ConfigurationError, match=r"returns must be a ReturnRules"):
        Service(**{**base(), "returns": ["redirect"]})


def test_placement_parameter_names_are_checked() -> None:
    for make in (QueryParameter, FormField):
        with pytest.raises(ConfigurationError, match="not a parameter name"):
            make("to ken")


def test_configuration_messages_never_contain_the_key() -> None:
    for overrides in ({"token_ttl": 0}, {"dest_target": "http://x"}, {"dest_placement": PathSegment()}):
        with pytest.raises(ConfigurationError) as e:
            build(**overrides)
        assert KEY not in str(e.value)


def test_claim_builder_may_not_set_reserved_claims(skin: Skin) -> None:
    svc = build(token_claims=lambda u: {"sub": u.id, "exp": 1})
    with pytest.raises(ConfigurationError, match="iat, exp and jti"):
        svc.build_claims(Principal(1))
    r = skin.issuer(services=[svc]).get("/sso/svc", headers={"X-User": "ada"})
    assert r.status == 500 and "eyJ" not in r.text


def test_generic_service_without_return_url_and_echo_limits(skin: Skin) -> None:
    svc = build(dest_target=None, ret_param="back", ret_hosts=["svc.example.com"])
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


INVOICED_PAGES = ["my_account", "credit_notes", "invoices", "estimates", "payments",
                  "balance_forward_statement", "open_item_statement", "pay",
                  "add_payment_method", "update_billing_info"]


@pytest.mark.parametrize("page", INVOICED_PAGES)
def test_invoiced_forwards_one_of_its_ten_pages(skin: Skin, page: str) -> None:
    client = skin.issuer(services=[services.invoiced(key=KEY, company="acme", customer_id="invoiced_id")])
    r = client.get(f"/sso/invoiced?redirect_to={page}", headers={"X-User": "ada"})
    assert r.status == 303 and r.location.startswith("https://acme.invoiced.com/login/eyJ")
    assert r.location.endswith(f"?redirect_to={page}")
    plain = client.get("/sso/invoiced", headers={"X-User": "ada"})
    assert "redirect_to" not in plain.location


@pytest.mark.parametrize("value", ["dashboard", "https://evil.example/", "/pay", "pay%26x%3D1", "PAY", ""],
                         ids=["unknown", "url", "path", "smuggled", "case", "empty"])
def test_invoiced_refuses_any_other_page_before_asking_who_the_user_is(skin: Skin, value: str) -> None:
    asked: list[object] = []

    def user(request: Any) -> dict[str, Any]:
        asked.append(request)
        return {"id": 7, "email": "ada@example.com", "invoiced_id": 1234}

    client = skin.issuer(services=[services.invoiced(key=KEY, company="acme", customer_id="invoiced_id")],
                         user=user)
    r = client.get(f"/sso/invoiced?redirect_to={value}", headers={"Accept": "application/json"})
    if value == "":  # an empty value is no page: the portal's own landing
        assert r.status == 303 and "redirect_to" not in r.location
        return
    assert r.status == 400 and r.json() == {"error": "bad_request",
                                            "message": "This service has no page by that name."}
    assert not asked and "eyJ" not in r.text


def test_invoiced_fixed_page_and_string_or_integer_sub(skin: Skin) -> None:
    import jwt as pyjwt

    svc = services.invoiced(key=KEY, company="acme", page="pay",
                            customer_id=lambda user: str(user.attributes["invoiced_id"]))
    r = skin.issuer(services=[svc]).get("/sso/invoiced?redirect_to=invoices", headers={"X-User": "ada"})
    assert r.status == 303 and r.location.endswith("?redirect_to=pay")  # the fixed page; the request's unread
    token = r.location.split("/login/")[1].partition("?")[0]
    assert pyjwt.decode(token, KEY, algorithms=["HS256"])["sub"] == "1234"  # the new doc's string sub
    from sso_middleware.testing import StandIn

    assert StandIn(svc).follow(r.location).claims["sub"] == "1234"


def test_the_userjot_stand_in_refuses_what_userjot_refuses() -> None:
    import time

    import jwt as pyjwt

    from sso_middleware.testing import StandIn, StandInRefused

    now = int(time.time())
    good = {"sub": "7", "iss": "p-123", "aud": "userjot", "iat": now, "exp": now + 3600}
    stand_in = StandIn(services.userjot(key=KEY, project_id="p-123"))
    url = "https://api.userjot.com/auth/sso?state=s&jwt="
    assert stand_in.follow(url + pyjwt.encode(good, KEY)).principal.id == "7"
    for change, code in (({"iss": "p-other"}, "token_invalid_claim"),
                         ({"aud": "board"}, "token_invalid_claim"), ({"aud": None}, "token_missing_claim"),
                         ({"exp": now + 3700}, "token_lifetime_too_long"),
                         ({"exp": None}, "token_missing_claim")):
        claims = {k: v for k, v in {**good, **change}.items() if v is not None}
        with pytest.raises(StandInRefused) as refused:
            StandIn(services.userjot(key=KEY, project_id="p-123")).follow(url + pyjwt.encode(claims, KEY))
        assert refused.value.code == code, change


def test_the_upvoty_stand_in_requires_a_name_not_an_email(skin: Skin) -> None:
    import jwt as pyjwt

    from sso_middleware.testing import StandIn, StandInRefused

    svc = services.upvoty(key=KEY, board="acme")
    url = "https://acme.upvoty.com/front/handleSSO/{}/?redirectUrl=x"
    assert StandIn(svc).follow(url.format(pyjwt.encode({"id": 7, "name": "Ada"}, KEY))).principal.id == 7
    with pytest.raises(StandInRefused) as refused:
        StandIn(svc).follow(url.format(pyjwt.encode({"id": 7, "email": "ada@example.com"}, KEY)))
    assert refused.value.code == "token_missing_claim"
    # the issuer signs a user without an email, and refuses one without a name
    client = skin.issuer(services=[svc], user=lambda request: {"id": 8, "name": "Bo", "avatar": "https://a/b.png"})
    r = client.get("/sso/upvoty?redirectUrl=https%3A%2F%2Facme.upvoty.com%2F")
    claims = StandIn(svc).follow(r).claims
    assert (claims["id"], claims["name"], claims["avatar"]) == (8, "Bo", "https://a/b.png")
    assert "email" not in claims
    nameless = skin.issuer(services=[svc], user=lambda request: {"id": 8, "email": "bo@example.com"})
    r = nameless.get("/sso/upvoty?redirectUrl=https%3A%2F%2Facme.upvoty.com%2F",
                     headers={"Accept": "application/json"})
    assert r.status == 400 and r.json()["error"] == "missing_claim"


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
    assert (claims["sub"], claims["name"]) == ("ada@example.com", "Ada Lovelace")
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
    with pytest.raises(ConfigurationError, match="forward_as"):
        build(ret_relative=True)
    with pytest.raises(ConfigurationError, match="target"):
        build(dest_target=None, ret_relative=True, ret_forward_as="back", ret_param="back")


def test_readme_service_of_your_own_runs_as_written() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if 'name="docs"' in b]
    found: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), found)
    docs = found["docs"]
    assert docs.destination.listen == "/authcallback" and docs.returns.relative
    r = Skin("wsgi").issuer(services=[docs]).get("/sso/docs?returnTo=/guide", headers={"X-User": "ada"})
    assert r.status == 303 and r.location.startswith("https://docs.example.com/authcallback?")
    assert "returnTo=%2Fguide" in r.location


def test_check_warns_about_a_ttl_at_the_vendors_lifetime_limit() -> None:
    from sso_middleware.lint import lint

    at_limit = lint([services.userjot(key=KEY, project_id="p-1", ttl=3600)]).findings
    assert [f.level for f in at_limit] == ["warning"] and "at most 3600 s" in at_limit[0].what
    assert "ttl=3540" in at_limit[0].fix
    assert lint([services.userjot(key=KEY, project_id="p-1")]).findings == []
