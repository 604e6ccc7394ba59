"""Every preset against its vendor's documented claim table, a round trip into its stand-in, the
vendors' own example tokens, extra claims, per-tenant keys and hosts, and settings."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt as pyjwt
import pytest
from helpers import KEY, OTHER_KEY, USERS, Result, Skin
from jwt.warnings import InsecureKeyLengthWarning

from sso_middleware import ConfigurationError, Principal, Service, services
from sso_middleware.placements import FormField, PathSegment
from sso_middleware.testing import StandIn, StandInRefused

IDENTITY_HASHES = {"helpscout_beacon", "front_chat", "crisp", "chatwoot", "intercom_identity", "gleap",
                   "novu", "pylon", "gainsight_px"}
HELPSCOUT_KEY = "xU9z43VrMtqIvnAqgbvUPSNkj/e4e/M5Nw+NIz7Dnjs="  # the shape Help Scout issues: 44 chars
BOARD = "https://feedback.acme.com/b/ideas"


@dataclass
class Case:
    """One preset: how to build it, the login request, and the claims its vendor documents."""

    build: Callable[..., Service]
    query: str
    claims: dict[str, Any]  # exactly what the token carries besides iat, exp, jti
    lands: str  # where the browser goes: scheme://host/path of the target
    algorithm: str = "HS256"
    key: str = KEY


CASES = {
    "frill": Case(lambda **kw: services.frill(key=KEY, hosts=["feedback.acme.com"], **kw),
                  "redirect=" + quote(BOARD, safe=""),
                  {"email": "ada@example.com", "id": 7, "name": "Ada Lovelace"},
                  "https://feedback.acme.com/b/ideas"),
    "invoiced": Case(lambda **kw: services.invoiced(key=KEY, company="acme", customer_id="invoiced_id",
                                                    issuer="Acme", **kw),
                     "", {"sub": 1234, "iss": "Acme"}, "https://acme.invoiced.com/login/"),
    "zendesk": Case(lambda **kw: services.zendesk(key=KEY, subdomain="acme", **kw),
                    "return_to=" + quote("https://acme.zendesk.com/hc", safe="")
                    + "&brand_id=360&locale_id=1",
                    {"name": "Ada Lovelace", "email": "ada@example.com", "external_id": "7"},
                    "https://acme.zendesk.com/access/jwt"),
    "canny": Case(lambda **kw: services.canny(key=KEY, **kw),
                  "companyID=c1&redirect=" + quote("https://acme.canny.io/feature-requests", safe=""),
                  {"email": "ada@example.com", "id": 7, "name": "Ada Lovelace"},
                  "https://canny.io/api/redirects/sso"),
    "featurebase": Case(lambda **kw: services.featurebase(key=KEY, organization="acme", **kw),
                        "return_to=" + quote("https://acme.featurebase.app/roadmap", safe=""),
                        {"userId": "7", "email": "ada@example.com", "name": "Ada Lovelace"},
                        "https://acme.featurebase.app/api/v1/auth/access/jwt"),
    "helpscout": Case(lambda **kw: services.helpscout(key=HELPSCOUT_KEY, site="https://docs.acme.com", **kw),
                      "returnTo=%2Farticle%2F1", {"sub": "ada@example.com", "name": "Ada Lovelace"},
                      "https://docs.acme.com/authcallback", algorithm="HS512", key=HELPSCOUT_KEY),
    "uservoice": Case(lambda **kw: services.uservoice(key=KEY, subdomain="acme", **kw), "",
                      {"guid": "7", "email": "ada@example.com", "display_name": "Ada Lovelace"},
                      "https://acme.uservoice.com/"),
    "userback": Case(lambda **kw: services.userback(key=KEY, portal="https://acme.ideas.userback.io/p/x1",
                                                    **kw), "",
                     {"email": "ada@example.com", "name": "Ada Lovelace"},
                     "https://acme.ideas.userback.io/p/x1"),
    "productlane": Case(lambda **kw: services.productlane(key=KEY, portal="https://feedback.acme.com", **kw),
                        "", {"email": "ada@example.com", "name": "Ada Lovelace"},
                        "https://feedback.acme.com/api/portal/sso"),
    "userjot": Case(lambda **kw: services.userjot(key=KEY, project_id="p-123", **kw), "state=opaque-123",
                    {"sub": "7", "iss": "p-123", "aud": "userjot", "email": "ada@example.com",
                     "firstName": "Ada", "lastName": "Lovelace"},
                    "https://api.userjot.com/auth/sso"),
    "launchnotes": Case(lambda **kw: services.launchnotes(key=KEY, page="https://updates.acme.com", **kw), "",
                        {"email": "ada@example.com", "name": "Ada Lovelace"}, "https://updates.acme.com/"),
    "upvoty": Case(lambda **kw: services.upvoty(key=KEY, board="acme", **kw),
                   "redirectUrl=" + quote("https://acme.upvoty.com/b/ideas", safe=""),
                   {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"},
                   "https://acme.upvoty.com/front/handleSSO/"),
    "metabase": Case(lambda **kw: services.metabase(key=KEY, site="https://bi.acme.com", **kw),
                     "return_to=%2Fquestion%2F1-superb-question",
                     {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
                     "https://bi.acme.com/auth/sso"),
    "gitbook": Case(lambda **kw: services.gitbook(key=KEY, site="https://docs.acme.com", **kw),
                    "location=%2Fguides%2Fsetup", {"sub": "7"}, "https://docs.acme.com/guides/setup"),
    "readme": Case(lambda **kw: services.readme(key=KEY, site="https://acme.readme.io", **kw),
                   "redirect=%2Fdocs%2Fintro",
                   {"email": "ada@example.com", "name": "Ada Lovelace", "version": 1},
                   "https://acme.readme.io/"),
    "happyfox": Case(lambda **kw: services.happyfox(key=KEY, account="acme", **kw), "",
                     {"email": "ada@example.com", "name": "Ada Lovelace"},
                     "https://acme.happyfox.com/jwt/"),
    "hellonext": Case(lambda **kw: services.hellonext(key=KEY, hosts=["feedback.acme.com"], **kw),
                      f"redirect={quote(BOARD, safe='')}&domain=feedback.acme.com",
                      {"email": "ada@example.com", "name": "Ada Lovelace"},
                      "https://app.hellonext.co/redirects/sso"),
    "zentrik": Case(lambda **kw: services.zentrik(key=KEY, portal="https://acme.ideas.zentrik.ai", **kw),
                    "state=s-123", {"email": "ada@example.com", "user_id": "7", "first_name": "Ada",
                                    "last_name": "Lovelace"},
                    "https://acme.ideas.zentrik.ai/api/portal/auth/jwt/callback"),
    "mojo": Case(lambda **kw: services.mojo(key=KEY, helpdesk="https://acme.mojohelpdesk.com", **kw), "",
                 {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
                 "https://acme.mojohelpdesk.com/jwt/consume"),
    "loopedin": Case(lambda **kw: services.loopedin(key=KEY, **kw),
                     "returnURL=" + quote("https://app.loopedin.io/acme", safe=""),
                     {"email": "ada@example.com", "name": "Ada Lovelace"}, "https://app.loopedin.io/acme"),
}


def test_every_preset_has_a_case() -> None:
    elsewhere = {"discourse",  # no JWT: test_discourse.py
                 "freshworks", "grafana", "intercom", "tableau", "mintlify",  # test_widgets.py
                 "zendesk_messaging", "stream", "knock", "helpjuice",  # test_widgets.py (iat in ms)
                 *IDENTITY_HASHES}  # no JWT: test_identity_hash.py
    assert set(CASES) | elsewhere == set(services.PRESETS)


def sent_token(svc: Service, r: Result) -> tuple[str, str, dict[str, list[str]]]:
    """``(token, where the browser goes, the other parameters)`` from an issuer's answer."""
    placement = svc.destination.placement
    if isinstance(placement, FormField):
        from helpers import Form

        form = Form()
        form.feed(r.text)
        url, token = form.action, form.fields[placement.param]
    else:
        url = r.location
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    if isinstance(placement, PathSegment):
        token = parts.path.rstrip("/").rsplit("/", 1)[1]
        base = parts.path[: parts.path.index(token)]
    elif not isinstance(placement, FormField):
        token = params.pop(placement.param)[0]
        base = parts.path
    else:
        base = parts.path
    return token, f"{parts.scheme}://{parts.netloc}{base}", params


@pytest.mark.parametrize("name", CASES)
def test_tokens_decode_to_the_vendors_claim_table_and_the_stand_in_accepts_them(
    skin: Skin, name: str
) -> None:
    case = CASES[name]
    svc = case.build()
    r = skin.issuer(services=[svc]).get(f"/sso/{name}?{case.query}", headers={"X-User": "ada"})
    assert r.status in (200, 303), r.text
    token, lands, params = sent_token(svc, r)
    assert lands == case.lands
    # decoded by PyJWT, a stack we did not write, as the vendor would
    with warnings.catch_warnings():  # PyJWT warns about Help Scout's own 44-character HS512 keys
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        # Invoiced's sub is an integer in its own docs; PyJWT wants strings unless told
        claims = pyjwt.decode(token, case.key, algorithms=[case.algorithm], options={"verify_sub": False},
                              audience=svc.token.audience, issuer=svc.token.issuer)
    assert {k: v for k, v in claims.items() if k not in ("iat", "exp", "jti")} == case.claims
    assert claims["exp"] - claims["iat"] == svc.token.ttl
    login = StandIn(svc).follow(r)
    assert login.claims == claims
    assert {param: params.get(param) for param in SENT_BACK.get(name, {})} == SENT_BACK.get(name, {})


SENT_BACK: dict[str, dict[str, list[str]]] = {  # what goes back beside the token, as the vendor sent it
    "zendesk": {"brand_id": ["360"], "locale_id": ["1"]},  # in the form's action URL, as Zendesk's example
    "userjot": {"state": ["opaque-123"]},
    "zentrik": {"state": ["s-123"]},  # the portal's state, unchanged
    "hellonext": {"domain": ["feedback.acme.com"], "redirect": [BOARD]},  # the board's redirect and domain
    "readme": {"redirect": ["/docs/intro"]},
}


EXAMPLES = {
    # name: (the vendor example's claims, as its own docs sign them; where the token lands)
    "frill": ({"email": "ada@example.com", "id": 7, "name": "Ada"}, BOARD + "?ssoToken={t}"),  # PHP: no iat
    "canny": ({"avatarURL": "https://a/x.png", "email": "ada@example.com", "id": 7, "name": "Ada", "iat": 0},
              "https://canny.io/api/redirects/sso?companyID=c&ssoToken={t}"),  # Node: iat only
    "featurebase": ({"email": "ada@example.com", "name": "Ada", "iat": 0},
                    "https://acme.featurebase.app/api/v1/auth/access/jwt?jwt={t}"),
    "uservoice": ({"guid": "7", "email": "ada@example.com", "display_name": "Ada"},
                  "https://acme.uservoice.com/?sso={t}"),  # Ruby: "defaults to never expiring"
    "userback": ({"email": "ada@example.com", "name": "Ada", "avatar_url": "https://a/x.png", "iat": 0},
                 "https://acme.ideas.userback.io/p/x1?sso_jwt={t}"),
    "productlane": ({"email": "ada@example.com", "name": "Ada", "imageUrl": "", "tokenValidity": 15,
                     "iat": 0},
                    "https://feedback.acme.com/api/portal/sso?token={t}"),
    "upvoty": ({"id": 7, "name": "Ada"},  # the WordPress plugin's "Required: id, name"
               "https://acme.upvoty.com/front/handleSSO/{t}/?redirectUrl=x"),
    "userjot": ({"sub": "user_123", "iss": "p-123", "aud": "userjot", "iat": 0, "exp": 900,
                 "email": "ada@example.com", "firstName": "Ada"},  # "Signed identity": exp <= iat + 1 h
                "https://api.userjot.com/auth/sso?jwt={t}&state=s"),
    "zendesk": ({"iat": 0, "jti": "8883362531196.326", "name": "Ada", "email": "ada@example.com"},
                None),
    "metabase": ({"email": "ada@example.com", "first_name": "Ada", "last_name": "L", "iat": 0},
                 "https://bi.acme.com/auth/sso?jwt={t}&return_to=/question/1"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_stand_ins_accept_the_vendors_own_example_tokens(name: str, caplog: pytest.LogCaptureFixture) -> None:
    case = CASES[name]
    claims, where = EXAMPLES[name]
    now = int(time.time())
    claims = {k: now + v if k in ("iat", "exp") else v for k, v in claims.items()}
    token = pyjwt.encode(claims, case.key, algorithm=case.algorithm)
    with caplog.at_level(logging.WARNING, "sso_middleware"):
        stand_in = StandIn(case.build())
    if where is None:  # Zendesk: the Rails example's form POST
        response: Any = Result(200, _headers(), f'<form method="post" action="https://acme.zendesk.com/access/'
                                              f'jwt?return_to=x"><input name="jwt" value="{token}"></form>')
    else:
        response = where.format(t=token)
    assert stand_in.follow(response).claims == claims
    lenient = "exp" not in claims and case.build().token.expiry_optional
    assert ("tokens without exp are accepted" in caplog.text) is lenient
    if lenient:  # ... and ours, on request
        with pytest.raises(StandInRefused) as refused:
            StandIn(case.build(), strict=True).follow(where.format(t=pyjwt.encode(claims, case.key)))
        assert refused.value.code == "token_missing_claim"


def _headers() -> Any:
    from werkzeug.datastructures import Headers

    return Headers()


def test_stand_ins_keep_the_vendors_age_limits() -> None:
    # Zendesk and Metabase refuse an iat over 3 minutes old; their stand-ins do too
    for name in ("zendesk", "metabase"):
        claims = {"iat": int(time.time()) - 400, "jti": "j", "name": "Ada", "email": "ada@example.com"}
        token = pyjwt.encode(claims, KEY, algorithm="HS256")
        url = ("https://bi.acme.com/auth/sso?jwt=" if name == "metabase" else "") + token
        stand_in = StandIn(CASES[name].build())
        with pytest.raises(StandInRefused) as refused:
            if name == "zendesk":
                page = f'<form method="post" action="https://acme.zendesk.com/access/jwt">' \
                       f'<input name="jwt" value="{token}">'
                stand_in.follow(Result(200, _headers(), page))
            else:
                stand_in.follow(url)
        assert refused.value.code == "token_expired"


def test_an_hs256_token_at_the_hs512_help_scout_receiver_is_the_wrong_algorithm() -> None:
    token = pyjwt.encode({"sub": "ada@example.com", "exp": int(time.time()) + 60}, HELPSCOUT_KEY,
                         algorithm="HS256")
    with pytest.raises(StandInRefused) as refused:
        StandIn(CASES["helpscout"].build()).follow(f"https://docs.acme.com/authcallback?token={token}")
    assert refused.value.code == "token_algorithm_not_allowed"


@pytest.mark.parametrize(
    ("build", "algorithm"),
    [
        pytest.param(lambda key: services.knock(key=key), "RS256", id="knock"),
        pytest.param(lambda key: services.freshworks(key=key, org="acme"), "RS256", id="freshworks"),
        pytest.param(lambda key: services.mintlify(key=key, docs="https://docs.acme.com"), "EdDSA",
                     id="mintlify"),
    ],
)
def test_presets_whose_vendor_verifies_one_algorithm_refuse_a_key_object_of_another(
    build: Callable[[Any], Service], algorithm: str
) -> None:
    from sso_middleware.keys import Key

    assert build(Key.generate(algorithm)).token.algorithm == algorithm
    for other in {"RS256", "ES256", "EdDSA"} - {algorithm}:
        with pytest.raises(ConfigurationError, match=f"verifies {algorithm} only; this key signs {other}"):
            build(Key.generate(other))


def test_help_scouts_own_44_character_secrets_are_not_warned_about() -> None:
    # filterwarnings = error: a ShortKeyWarning here would fail the test
    services.helpscout(key=HELPSCOUT_KEY, site="https://docs.acme.com")
    from sso_middleware.keys import ShortKeyWarning

    with pytest.warns(ShortKeyWarning):
        services.helpscout(key=HELPSCOUT_KEY[:40], site="https://docs.acme.com")


# -- extra claims -------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_every_preset_takes_extra_claims(skin: Skin, name: str) -> None:
    case = CASES[name]
    extras: dict[str, Any] = {"avatar": "https://cdn.acme.com/ada.png", "tags": ["vip"]}
    for extra in (extras, lambda user: {**extras, "plan": user.attributes.get("invoiced_id")}):
        svc = case.build(extra_claims=extra)
        r = skin.issuer(services=[svc]).get(f"/sso/{name}?{case.query}", headers={"X-User": "ada"})
        claims = StandIn(svc).follow(r).claims
        assert claims["avatar"] == extras["avatar"] and claims["tags"] == ["vip"]
        assert all(claims[k] == v for k, v in case.claims.items())  # merged over, not instead


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        pytest.param("frill", {"exp": 1}, "iat, exp and jti", id="exp"),
        pytest.param("frill", {"id": 8}, "names the user", id="frill-identity"),
        pytest.param("invoiced", {"sub": 8}, "names the user", id="invoiced-identity"),
        pytest.param("zendesk", {"email": "x@y"}, "names the user", id="zendesk-identity"),
        pytest.param("frill", {"when": object()}, "JSON", id="not-json"),
        pytest.param("frill", ["avatar"], "mapping or a callable", id="a-list"),
    ],
)
def test_extra_claims_mistakes_are_caught_at_construction(name: str, extra: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CASES[name].build(extra_claims=extra)


def test_an_extra_claims_callable_that_sets_a_reserved_claim_is_a_logged_500(
    skin: Skin, caplog: pytest.LogCaptureFixture
) -> None:
    svc = CASES["frill"].build(extra_claims=lambda user: {"jti": "fixed"})
    with caplog.at_level(logging.ERROR, "sso_middleware"):
        r = skin.issuer(services=[svc]).get(f"/sso/frill?{CASES['frill'].query}", headers={"X-User": "ada"})
    assert r.status == 500 and "eyJ" not in r.text
    assert "extra_claims sets ['jti']" in caplog.text


# -- the vendors' hosts plus yours ----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "param", "vendor", "custom"),
    [
        pytest.param(lambda **kw: services.canny(key=KEY, **kw), "redirect", "https://acme.canny.io/x",
                     "https://feedback.acme.com/x", id="canny"),
        pytest.param(lambda **kw: services.zendesk(key=KEY, subdomain="acme", **kw), "return_to",
                     "https://acme.zendesk.com/hc", "https://help.acme.com/hc", id="zendesk-brand"),
        pytest.param(lambda **kw: services.featurebase(key=KEY, organization="acme", **kw), "return_to",
                     "https://acme.featurebase.app/", "https://feedback.acme.com/", id="featurebase"),
        pytest.param(lambda **kw: services.upvoty(key=KEY, board="acme", **kw), "redirectUrl",
                     "https://acme.upvoty.com/", "https://ideas.acme.com/", id="upvoty"),
    ],
)
def test_custom_domains_add_to_the_vendors_hosts(skin: Skin, build: Any, param: str, vendor: str,
                                                  custom: str) -> None:
    for hosts, allowed in (((), {vendor}), (["feedback.acme.com", "help.acme.com", "ideas.acme.com"],
                                            {vendor, custom})):
        client = skin.issuer(services=[build(hosts=hosts)])
        for url in (vendor, custom, "https://evil.example/"):
            r = client.get(f"/sso/{build().name}?{param}={quote(url, safe='')}", headers={"X-User": "ada"})
            assert (r.status != 400) is (url in allowed), (hosts, url, r.status)


# -- per tenant -----------------------------------------------------------------------------

TENANTS = {"acme": ("acme-board-key-0123456789abcdefghijklm", ["acme.frill.co"]),
           "globex": ("globex-board-key-0123456789abcdefghijk", ["feedback.globex.com"])}


def tenant_user(request: Any) -> dict[str, Any] | None:
    name = request.headers.get("x-user", "")
    return {**USERS["ada"], "tenant": name} if name in TENANTS else None


def test_per_tenant_keys_and_hosts(skin: Skin) -> None:
    svc = services.frill(key=lambda user: TENANTS[user.attributes["tenant"]][0],
                         hosts=lambda user: TENANTS[user.attributes["tenant"]][1])
    client = skin.issuer(services=[svc], user=tenant_user)
    for tenant, (key, (host,)) in TENANTS.items():
        r = client.get("/sso/frill?redirect=" + quote(f"https://{host}/b", safe=""),
                       headers={"X-User": tenant})
        assert r.status == 303 and r.location.startswith(f"https://{host}/b?ssoToken=")
        token = parse_qs(urlsplit(r.location).query)["ssoToken"][0]
        assert pyjwt.decode(token, key, algorithms=["HS256"])["id"] == 7
        other = next(h for t, (_, (h,)) in TENANTS.items() if t != tenant)  # another tenant's board
        r = client.get("/sso/frill?redirect=" + quote(f"https://{other}/b", safe=""),
                       headers={"X-User": tenant})
        assert r.status == 400 and "eyJ" not in r.text
    # the URL's form is still judged before anyone is asked who the user is
    r = client.get("/sso/frill?redirect=" + quote("https://u:p@acme.frill.co/", safe=""))
    assert r.status == 400


def test_a_bad_tenant_key_is_a_logged_configuration_error(
    skin: Skin, caplog: pytest.LogCaptureFixture
) -> None:
    svc = services.frill(key=lambda user: None, hosts=["feedback.acme.com"])
    with caplog.at_level(logging.ERROR, "sso_middleware"):
        r = skin.issuer(services=[svc]).get(f"/sso/frill?{CASES['frill'].query}", headers={"X-User": "ada"})
    assert r.status == 500 and "returned no key for this user" in caplog.text
    with pytest.raises(ConfigurationError, match="receiver needs the key itself"):
        skin.verifier(service=svc)


def test_tenant_keys_are_validated_once() -> None:
    calls: list[str] = []
    svc = services.frill(key=lambda user: calls.append("k") or "tenant-key-0123456789abcdefghijklmnop",
                         hosts=["feedback.acme.com"])
    first = svc.signing_keys(Principal(1))
    assert svc.signing_keys(Principal(2)) is first and calls == ["k", "k"]


# -- settings -------------------------------------------------------------------------------


def test_from_config_builds_presets_from_plain_settings(skin: Skin) -> None:
    built = services.from_config({
        "frill": {"key": KEY, "hosts": "feedback.acme.com, *.frill.co", "ttl": "120"},
        "frill-eu": {"preset": "frill", "key": OTHER_KEY, "hosts": ["eu.acme.com"]},
        "invoiced": {"key": OTHER_KEY, "company": "acme", "customer_id": "invoiced_id"},
    })
    assert [s.name for s in built] == ["frill", "frill-eu", "invoiced"]
    assert "acme.frill.co" in built[0].returns.hosts and built[0].token.ttl == 120  # type: ignore[operator]
    r = skin.issuer(services=built).get("/sso/frill-eu?redirect=" + quote("https://eu.acme.com/", safe=""),
                                        headers={"X-User": "ada"})
    assert r.location.startswith("https://eu.acme.com/?ssoToken=")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({"frill": {"key": KEY, "host": "a.com"}}, r"SSO_SERVICES\['frill'\]\['host'\].*takes",
                     id="misspelled-option"),
        pytest.param({"frill": {"key": KEY}}, r"SSO_SERVICES\['frill'\]: services.frill needs hosts",
                     id="missing-option"),
        pytest.param({"frll": {"key": KEY}}, r"SSO_SERVICES\['frll'\]: no preset named 'frll'",
                     id="no-preset"),
        pytest.param({"frill": {"key": KEY, "hosts": "https://a.com"}},
                     r"SSO_SERVICES\['frill'\]\['hosts'\]: .*not a host pattern", id="bad-host"),
        pytest.param({"zendesk": {"key": KEY, "subdomain": "a.b"}},
                     r"SSO_SERVICES\['zendesk'\]\['subdomain'\]", id="bad-subdomain"),
        pytest.param({"frill": {"key": KEY, "hosts": "a.com", "ttl": "\u00b2"}},
                     r"SSO_SERVICES\['frill'\]\['ttl'\]: ttl must be whole", id="ttl-superscript-digit"),
        pytest.param({"frill": {"key": KEY, "hosts": "a.com", "ttl": "\u0661\u0662"}},
                     r"SSO_SERVICES\['frill'\]\['ttl'\]: ttl must be whole", id="ttl-arabic-indic"),
        pytest.param({"frill": "key"}, r"SSO_SERVICES\['frill'\]: the service's options", id="not-a-mapping"),
        pytest.param({}, r"SSO_SERVICES: a mapping", id="empty"),
    ],
)
def test_from_config_errors_name_the_setting(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as e:
        services.from_config(config)
    assert KEY not in str(e.value)
