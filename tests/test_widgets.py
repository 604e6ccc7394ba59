"""Tokens a page fetches (the token endpoint), tokens in the fragment, request values copied into
tokens, and the presets built on them (Freshworks, Grafana, Intercom, Tableau, Mintlify)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from helpers import Clock, Skin
from werkzeug.test import Client as WerkzeugClient

from sso_middleware import services
from sso_middleware.errors import ConfigurationError
from sso_middleware.keys import Key
from sso_middleware.snippets import token_script
from sso_middleware.testing import StandIn
from sso_middleware.tokens import sign

RSA, ED = Key.generate("RS256"), Key.generate("EdDSA")
ADA = {"X-User": "ada"}
SECRET = "intercom-messenger-secret-0123456789abcdef"


def intercom() -> services.Service:
    return services.intercom(key=SECRET)


def tableau(**kw: Any) -> services.Service:
    return services.tableau(secret="t" * 40, secret_id="secret-id-1", client_id="client-id-1", **kw)


# -- the token endpoint ---------------------------------------------------------------


def test_the_token_endpoint_answers_same_origin_json(skin: Skin, clock: Clock) -> None:
    client = skin.issuer(services=[intercom()], clock=clock)
    response = client.get("/sso/intercom/token", headers=ADA)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response.headers  # no CORS: our pages only
    body = response.json()
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], options={"verify_exp": False,
                                                                              "verify_iat": False})
    assert body["expires_at"] == claims["exp"] == int(clock.now) + 3600
    assert claims["user_id"] == "7" and claims["email"] == "ada@example.com"
    # what a browser's same-origin fetch sends is accepted too
    same = client.get("/sso/intercom/token", headers={**ADA, "Sec-Fetch-Site": "same-origin",
                                                      "Origin": "http://localhost"})
    assert same.status == 200


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"}, {"Origin": "null"},
], ids=["cross-site", "same-site", "foreign-origin", "null-origin"])
def test_the_token_endpoint_refuses_other_sites(skin: Skin, headers: dict[str, str]) -> None:
    response = skin.issuer(services=[intercom()]).get("/sso/intercom/token", headers={**ADA, **headers})
    assert response.status == 403 and response.json()["error"] == "cross_site_request"
    assert "token" not in response.json()


def test_the_token_endpoint_answers_anonymous_visitors_401_json(skin: Skin) -> None:
    client = skin.issuer(services=[intercom()], login_url="/login")  # never a redirect to the login page
    response = client.get("/sso/intercom/token", headers={"Accept": "text/html"})
    assert response.status == 401 and response.json()["error"] == "not_authenticated"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.request("POST", "/sso/intercom/token", headers=ADA).status == 405
    assert client.get("/sso/intercom", headers=ADA).json()["path"] == "/sso/intercom"  # not ours: the app's


def test_a_stand_in_follows_a_fetched_token_like_a_redirect(skin: Skin, sso_stand_in: Any) -> None:
    svc = intercom()
    login = sso_stand_in(svc).follow(skin.issuer(services=[svc]).get("/sso/intercom/token", headers=ADA))
    assert login.claims["user_id"] == "7"


def test_tableau_tokens_are_what_tableau_documents(skin: Skin, clock: Clock) -> None:
    body = skin.issuer(services=[tableau()], clock=clock).get("/sso/tableau/token", headers=ADA).json()
    header = jwt.get_unverified_header(body["token"])
    assert header == {"alg": "HS256", "kid": "secret-id-1", "typ": "JWT", "iss": "client-id-1"}
    claims = jwt.decode(body["token"], "t" * 40, algorithms=["HS256"], audience="tableau",
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == "client-id-1" and claims["sub"] == "ada@example.com"
    assert claims["scp"] == ["tableau:views:embed"] and claims["jti"]
    assert claims["exp"] - claims["iat"] <= 600
    stand_in = StandIn(tableau(), clock=clock)  # requires aud "tableau", as Tableau does
    fetched = skin.issuer(services=[tableau()], clock=clock).get("/sso/tableau/token", headers=ADA)
    assert stand_in.follow(fetched).principal.id == "ada@example.com"
    with pytest.raises(ConfigurationError, match="ttl 601: the service refuses tokens valid for more"):
        tableau(ttl=601)
    # and the stand-in refuses what Tableau refuses: a token valid for longer than 10 minutes
    long_lived = sign({"iss": "client-id-1", "aud": "tableau", "sub": "ada@example.com",
                       "scp": ["tableau:views:embed"], "jti": "j-long", "iat": int(clock.now),
                       "exp": int(clock.now) + 3600}, Key("t" * 40, kid="secret-id-1"))
    refused = WerkzeugClient(stand_in.app).post("/", data={"token": long_lived},
                                                headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "token_lifetime_too_long"
    with pytest.raises(ConfigurationError, match="scopes"):
        tableau(scopes=[])


def test_token_script_renders_a_safe_fetch() -> None:
    html = token_script("/sso/intercom/token", "bootIntercom", nonce='n"1')
    assert html.startswith('<script nonce="n&quot;1">') and '"/sso/intercom/token"' in html
    assert 'credentials:"same-origin"' in html and 'window["bootIntercom"]' in html
    for bad in ("//evil.example/token", "javascript:alert(1)", "/sso/x</script>/token"):
        with pytest.raises(ValueError):
            token_script(bad, "f")
    with pytest.raises(ValueError):
        token_script("/sso/x/token", "alert(1);f")


# -- widget mode: Frill, Canny, Featurebase; Metabase's SDK ----------------------------

WIDGETS = {  # name: (build, redirect login query, token parameter, claims, where the vendor takes a token)
    "frill": (lambda **kw: services.frill(key=SECRET, hosts=["feedback.acme.com"], **kw),
              "redirect=https%3A%2F%2Ffeedback.acme.com%2Fb", "ssoToken", ("email", "id", "name"),
              "https://feedback.acme.com/b?ssoToken={}"),
    "canny": (lambda **kw: services.canny(key=SECRET, **kw),
              "companyID=c1&redirect=https%3A%2F%2Facme.canny.io%2Fb", "ssoToken", ("email", "id", "name"),
              "https://canny.io/api/redirects/sso?ssoToken={}"),
    "featurebase": (lambda **kw: services.featurebase(key=SECRET, organization="acme", **kw),
                    "return_to=https%3A%2F%2Facme.featurebase.app%2F", "jwt", ("userId", "email", "name"),
                    "https://acme.featurebase.app/api/v1/auth/access/jwt?jwt={}"),
}


@pytest.mark.parametrize("name", WIDGETS)
def test_widget_mode_answers_the_token_beside_the_redirect(skin: Skin, clock: Clock, name: str) -> None:
    build, query, param, claimed, takes = WIDGETS[name]
    svc = build(widget=True)
    client = skin.issuer(services=[svc], clock=clock, login_url="/login")
    response = client.get(f"/sso/{name}/token", headers={**ADA, "Sec-Fetch-Site": "same-origin"})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    body = response.json()
    assert set(body) == {"token", "expires_at"}  # the token endpoint's own shape
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], options={"verify_exp": False,
                                                                              "verify_iat": False})
    assert body["expires_at"] == claims["exp"] == int(clock.now) + 300 and set(claimed) <= set(claims)
    # the vendor's stand-in takes the fetched token
    taken = StandIn(build(), clock=clock).follow(takes.format(body["token"]))
    assert taken.claims["email"] == "ada@example.com"
    # ... and the redirect login works beside it
    redirected = client.get(f"/sso/{name}?{query}", headers=ADA)
    assert redirected.status == 303 and f"{param}=eyJ" in redirected.location
    assert StandIn(build(), clock=clock).follow(redirected).claims["email"] == "ada@example.com"
    # without widget=True there is no token path: the app's own
    plain = skin.issuer(services=[build()]).get(f"/sso/{name}/token", headers=ADA)
    assert plain.json()["path"] == f"/sso/{name}/token"


@pytest.mark.parametrize("name", WIDGETS)
@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"},
], ids=["cross-site", "same-site", "foreign-origin"])
def test_widget_tokens_refuse_other_sites_and_anonymous_visitors(skin: Skin, name: str,
                                                                 headers: dict[str, str]) -> None:
    client = skin.issuer(services=[WIDGETS[name][0](widget=True)], login_url="/login")
    response = client.get(f"/sso/{name}/token", headers={**ADA, **headers})
    assert response.status == 403 and response.json()["error"] == "cross_site_request"
    assert "eyJ" not in response.text
    anonymous = client.get(f"/sso/{name}/token", headers={"Accept": "text/html"})
    assert anonymous.status == 401 and anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["Cache-Control"] == "no-store"
    assert client.request("POST", f"/sso/{name}/token", headers=ADA).status == 405


def test_widget_mode_from_settings() -> None:
    built = services.from_config({
        "frill": {"key": SECRET, "hosts": "feedback.acme.com", "widget": "true"},
        "canny": {"key": SECRET, "widget": True},
        "featurebase": {"key": SECRET, "organization": "acme", "widget": "0"},
    })
    assert [sorted(s.login_paths("/sso")) for s in built] == [
        ["/sso/frill", "/sso/frill/token"], ["/sso/canny", "/sso/canny/token"], ["/sso/featurebase"]]
    with pytest.raises(ConfigurationError, match=r"SSO_SERVICES\['canny'\]\['widget'\]: .*True or False"):
        services.from_config({"canny": {"key": SECRET, "widget": "maybe"}})


def test_widget_snippets_make_each_vendors_call() -> None:
    from sso_middleware.snippets import canny_widget, featurebase_messenger, featurebase_widget, frill_widget

    frill = frill_widget("/sso/frill/token", "k-1")
    assert 'window.Frill("container",{"key":"k-1","ssoToken":b.token});' in frill
    assert 'window.Frill("widget",' in frill_widget("/sso/frill/token", "k-1", command="widget")
    assert ('window.Canny("render",{"boardToken":"b-1","basePath":null,"ssoToken":b.token});'
            in canny_widget("/sso/canny/token", "b-1"))
    assert '"basePath":"/feedback",' in canny_widget("/sso/canny/token", "b-1", base_path="/feedback")
    assert ('window.Featurebase("initialize_feedback_widget",{"organization":"acme","jwtToken":b.token})'
            in featurebase_widget("/sso/featurebase/token", "acme"))
    messenger = featurebase_messenger("/sso/featurebase/token", "a-1")
    assert '{"appId":"a-1","featurebaseJwt":b.token}' in messenger
    html = frill_widget("/sso/frill/token", "</script><script>alert(1)", nonce="n1")
    assert html.startswith('<script nonce="n1">') and "</script><script>" not in html
    assert 'credentials:"same-origin"' in html
    assert "setTimeout" not in html  # fetched once: the widget keeps its own session
    for bad in ("https://evil.example/token", "//evil.example/t"):
        with pytest.raises(ValueError):
            canny_widget(bad, "a-1")
    with pytest.raises(ValueError):
        frill_widget("/sso/frill/token", "k-1", command="survey")


METABASE_KEY = "metabase-jwt-shared-secret-0123456789abcdef"


def metabase() -> services.Service:
    return services.metabase(key=METABASE_KEY, site="https://bi.acme.com")


def test_metabase_sdk_gets_json_and_browsers_the_redirect(skin: Skin, clock: Clock) -> None:
    client = skin.issuer(services=[metabase()], clock=clock, login_url="/login")
    response = client.get("/sso/metabase?response=json", headers={**ADA, "Sec-Fetch-Site": "same-origin"})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/json"
    assert "Access-Control-Allow-Origin" not in response.headers
    body = response.json()
    assert set(body) == {"jwt", "expires_at"}  # Metabase's SDK reads {"jwt": ...}
    claims = jwt.decode(body["jwt"], METABASE_KEY, algorithms=["HS256"], options={"verify_exp": False,
                                                                                  "verify_iat": False})
    assert claims["email"] == "ada@example.com" and claims["iat"] == int(clock.now)
    # Metabase itself takes the token the SDK hands it
    login = StandIn(metabase(), clock=clock).follow(f"https://bi.acme.com/auth/sso?jwt={body['jwt']}")
    assert login.principal.id == "ada@example.com"
    browser = client.get("/sso/metabase?return_to=%2Fquestion%2F1", headers=ADA)
    assert browser.status == 303 and browser.location.startswith("https://bi.acme.com/auth/sso?")
    for other in ("response=html", "response=json&response=json"):
        assert client.get(f"/sso/metabase?{other}", headers=ADA).status in (303, 400)


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}],
                         ids=["cross-site", "foreign-origin"])
def test_metabase_json_refuses_other_sites_and_anonymous_visitors(skin: Skin,
                                                                  headers: dict[str, str]) -> None:
    client = skin.issuer(services=[metabase()], login_url="/login")
    response = client.get("/sso/metabase?response=json", headers={**ADA, **headers})
    assert response.status == 403 and response.json()["error"] == "cross_site_request"
    assert "eyJ" not in response.text
    anonymous = client.get("/sso/metabase?response=json")
    assert anonymous.status == 401 and anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["Cache-Control"] == "no-store"
    # a browser's plain login still goes to the login page
    assert client.get("/sso/metabase").location.startswith("/login?next=")


# -- the fragment ---------------------------------------------------------------------


def mintlify() -> services.Service:
    return services.mintlify(key=ED, docs="https://docs.acme.com")


def test_mintlify_sends_the_token_in_the_fragment(skin: Skin, clock: Clock) -> None:
    response = skin.issuer(services=[mintlify()], clock=clock).get("/sso/mintlify?redirect=/quickstart",
                                                                   headers=ADA)
    url, _, token = response.location.partition("#")
    assert url == "https://docs.acme.com/login/jwt-callback?redirect=%2Fquickstart"
    assert response.headers["Cache-Control"] == "no-store"
    claims = jwt.decode(token, ED.public_pem(), algorithms=["EdDSA"],
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["expiresAt"] == int(clock.now) + 14 * 86400 and claims["exp"] == int(clock.now) + 60
    assert "." in token and "token" not in url
    bad = skin.issuer(services=[mintlify()]).get("/sso/mintlify?redirect=https://evil.example/", headers=ADA)
    assert bad.status == 400


def test_a_fragment_receiver_bridges_the_token_to_a_same_origin_post(skin: Skin, clock: Clock) -> None:
    issuer = skin.issuer(services=[mintlify()], clock=clock)
    location = issuer.get("/sso/mintlify?redirect=/quickstart", headers=ADA).location
    _, receiver = skin.verifier(service=mintlify(), clock=clock)
    page = receiver.get("/login/jwt-callback?redirect=%2Fquickstart")  # the fragment never arrives
    assert page.status == 200 and "history.replaceState" in page.text
    assert "script-src 'sha256-" in page.headers["Content-Security-Policy"]
    # under no-referrer a browser would POST with "Origin: null", which the receiver refuses
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["Cache-Control"] == "no-store"
    token = location.partition("#")[2]
    cross = receiver.request("POST", "/login/jwt-callback", data={"token": token},
                             headers={"Sec-Fetch-Site": "cross-site", "Accept": "application/json"})
    assert cross.status == 403 and cross.json()["error"] == "cross_site_request"
    signed_in = receiver.request("POST", "/login/jwt-callback?redirect=%2Fquickstart", data={"token": token})
    assert signed_in.status == 303 and signed_in.location == "/quickstart"
    assert receiver.get("/").json()["user"] == "7"
    login = StandIn(mintlify(), clock=clock).follow(
        issuer.get("/sso/mintlify?redirect=/quickstart", headers=ADA).location)
    assert login.claims["sub"] == "7"


# -- request values copied into the token ---------------------------------------------

FRESHWORKS_QUERY = ("response_type=id_token&client_id=302836020429100183&scope=openid%20email%20profile"
                    "&state=Y2xhc2h1bml2ZXJzYWxhc3Npc3Q%3D&nonce=xb2Ce5AGSDGhWYQI"
                    "&redirect_uri=https://acme.freshworks.com/sp/OIDC/302836020429100183/implicit")


def freshworks() -> services.Service:
    return services.freshworks(key=RSA, org="acme")


def test_freshworks_copies_the_nonce_and_echoes_state(skin: Skin, clock: Clock) -> None:
    response = skin.issuer(services=[freshworks()], clock=clock).get(f"/sso/freshworks?{FRESHWORKS_QUERY}",
                                                                     headers=ADA)
    assert response.location.startswith(
        "https://acme.freshworks.com/sp/OIDC/302836020429100183/implicit?state=Y2xhc2h1bml2ZXJzYWxhc3Npc3Q%3D"
        "&id_token=")
    token = response.location.split("id_token=")[1]
    claims = jwt.decode(token, RSA.public_pem(), algorithms=["RS256"], options={"verify_exp": False,
                                                                                "verify_iat": False})
    assert claims["nonce"] == "xb2Ce5AGSDGhWYQI" and claims["sub"] == "7"
    assert claims["email"] == "ada@example.com" and claims["iat"] == int(clock.now)
    assert (claims["given_name"], claims["family_name"]) == ("Ada", "Lovelace")
    assert StandIn(freshworks(), clock=clock).follow(response.location).claims["nonce"] == "xb2Ce5AGSDGhWYQI"


@pytest.mark.parametrize("change", [
    ("&nonce=xb2Ce5AGSDGhWYQI", ""),  # Freshworks always sends one: without, its answer would fail
    ("nonce=xb2Ce5AGSDGhWYQI", "nonce=" + "n" * 257),
    ("nonce=xb2Ce5AGSDGhWYQI", "nonce=%3Cscript%3E"),
    ("state=Y2xhc2h1bml2ZXJzYWxhc3Npc3Q%3D", "state=a%22b"),
    ("state=Y2xhc2h1bml2ZXJzYWxhc3Npc3Q%3D", "state=" + "s" * 513),
    ("nonce=xb2Ce5AGSDGhWYQI", "nonce=a&nonce=b"),
    ("acme.freshworks.com", "evil.example"),
], ids=["no-nonce", "long-nonce", "unsafe-nonce", "unsafe-state", "long-state", "two-nonces", "other-host"])
def test_bad_request_values_are_refused_before_anything_is_signed(skin: Skin,
                                                                  change: tuple[str, str]) -> None:
    query = FRESHWORKS_QUERY.replace(*change)
    response = skin.issuer(services=[freshworks()]).get(f"/sso/freshworks?{query}", headers=ADA)
    assert response.status == 400 and "id_token" not in response.text and "eyJ" not in response.text


def test_copy_configuration_mistakes() -> None:
    with pytest.raises(ConfigurationError, match="iat, exp and jti"):
        services.ReturnRules(copy={"x": "exp"})
    with pytest.raises(ConfigurationError, match="parameter name"):
        services.ReturnRules(copy={"a b": "x"})


# -- every new preset, end to end, with its stand-in -----------------------------------


def grafana() -> services.Service:
    return services.grafana(key=RSA, url="https://grafana.acme.com")


MESSAGING = "zendesk-messaging-secret-0123456789abcdef"
HELPJUICE_QUERY = "service=helpjuice"
LATER: dict[str, Any] = {"verify_exp": False, "verify_iat": False}
ADA_EMAIL = "ada@example.com"


def zendesk_messaging() -> services.Service:
    return services.zendesk_messaging(key=MESSAGING, key_id="app_64a1")


def stream() -> services.Service:
    return services.stream(key=MESSAGING)


def knock() -> services.Service:
    return services.knock(key=RSA)


def helpjuice() -> services.Service:
    return services.helpjuice(key=MESSAGING, subdomain="acme")


NEW = {
    "zendesk_messaging": (zendesk_messaging, "/sso/zendesk_messaging/token"),
    "stream": (stream, "/sso/stream/token"),
    "knock": (knock, "/sso/knock/token"),
    "helpjuice": (helpjuice, f"/sso/helpjuice?{HELPJUICE_QUERY}"),
    "freshworks": (freshworks, f"/sso/freshworks?{FRESHWORKS_QUERY}"),
    "grafana": (grafana, "/sso/grafana?redirect=/d/abc"),
    "intercom": (intercom, "/sso/intercom/token"),
    "tableau": (tableau, "/sso/tableau/token"),
    "mintlify": (mintlify, "/sso/mintlify?redirect=/quickstart"),
}


@pytest.mark.parametrize("name", sorted(NEW))
def test_each_new_preset_round_trips_into_its_stand_in(skin: Skin, clock: Clock, name: str) -> None:
    build, path = NEW[name]
    response = skin.issuer(services=[build()], clock=clock).get(path, headers=ADA)
    assert response.status in (200, 303), response.text
    login = StandIn(build(), clock=clock).follow(response)
    assert login.service == name
    clock.advance(3601)  # and a late token is refused, as the service would
    late = skin.issuer(services=[build()], clock=Clock(clock.now - 7200)).get(path, headers=ADA)
    with pytest.raises(AssertionError, match=r"token_expired|token_not_yet_valid"):
        StandIn(build(), clock=clock).follow(late)


def test_from_config_builds_the_new_presets() -> None:
    built = services.from_config({
        "intercom": {"key": SECRET},
        "tableau": {"secret": "t" * 40, "secret_id": "s", "client_id": "c", "ttl": "300"},
        "grafana": {"key": RSA.private_pem().decode(), "url": "https://grafana.acme.com"},
    })
    assert [s.name for s in built] == ["intercom", "tableau", "grafana"]
    needs = r"SSO_SERVICES\['freshworks'\]: services.freshworks needs key, org"
    with pytest.raises(ConfigurationError, match=needs):
        services.from_config({"freshworks": {}})


# -- the third pass: fetched tokens (Zendesk messaging, Stream, Knock) and Helpjuice's milliseconds


def test_fetched_tokens_are_what_their_vendors_document(skin: Skin, clock: Clock) -> None:
    from joserfc import jwk
    from joserfc import jwt as jose

    client = skin.issuer(services=[zendesk_messaging(), stream(), knock()], clock=clock)
    zd = client.get("/sso/zendesk_messaging/token", headers=ADA).json()["token"]
    assert jwt.get_unverified_header(zd) == {"alg": "HS256", "kid": "app_64a1", "typ": "JWT"}
    claims = jwt.decode(zd, MESSAGING, algorithms=["HS256"], options=LATER)
    assert (claims["scope"], claims["external_id"], claims["email"]) == ("user", "7", "ada@example.com")
    fetched = client.get("/sso/stream/token", headers=ADA).json()["token"]
    st = jose.decode(fetched, jwk.OctKey.import_key(MESSAGING))
    assert st.claims["user_id"] == "7" and st.header["alg"] == "HS256"  # joserfc: a stack we did not write
    kn = client.get("/sso/knock/token", headers=ADA).json()["token"]
    public = jwk.RSAKey.import_key(RSA.public_pem().decode())
    decoded = jose.decode(kn, public, algorithms=["RS256"])
    assert decoded.claims["sub"] == "7" and decoded.claims["exp"] - decoded.claims["iat"] == 3600
    assert client.get("/sso/.well-known/jwks.json").json()["keys"][0]["kty"] == "RSA"  # Knock's public half


def test_streams_own_tokens_without_exp_are_accepted_unless_strict(clock: Clock) -> None:
    bare = sign({"user_id": "john"}, Key(MESSAGING), typ=None)  # what Stream's SDKs sign by default
    assert bare == jwt.encode({"user_id": "john"}, MESSAGING, algorithm="HS256", headers={"typ": None})
    accepted = WerkzeugClient(StandIn(stream(), clock=clock).app).post("/", data={"token": bare})
    assert accepted.status_code == 303
    strict = StandIn(stream(), clock=clock, strict=True)
    refused = WerkzeugClient(strict.app).post("/", data={"token": bare},
                                              headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "token_missing_claim"


def test_helpjuice_counts_iat_in_milliseconds_and_refuses_tokens_past_three_minutes(
    skin: Skin, clock: Clock
) -> None:
    client = skin.issuer(services=[helpjuice()], clock=clock)
    response = client.get(f"/sso/helpjuice?{HELPJUICE_QUERY}", headers=ADA)
    assert response.location.startswith("https://helpjuice.com/jwt/acme?jwt=")
    token = response.location.split("jwt=", 1)[1]
    claims = jwt.decode(token, MESSAGING, algorithms=["HS256"], options=LATER)
    assert claims["iat"] == int(clock.now * 1000) and claims["exp"] == int(clock.now) + 180
    assert (claims["email"], claims["first_name"], claims["last_name"]) == (ADA_EMAIL, "Ada", "Lovelace")
    assert StandIn(helpjuice(), clock=clock).follow(response).principal.id == "ada@example.com"
    old = sign({"jti": "j1", "iat": int((clock.now - 211) * 1000), "email": ADA_EMAIL}, Key(MESSAGING))
    late = WerkzeugClient(StandIn(helpjuice(), clock=clock).app).get(
        f"/jwt/acme?jwt={old}", headers={"Accept": "application/json"})
    assert late.status_code == 401 and late.get_json()["error"] == "token_expired"
    in_seconds = sign({"jti": "j2", "iat": int(clock.now), "email": "ada@example.com"}, Key(MESSAGING))
    seconds = WerkzeugClient(StandIn(helpjuice(), clock=clock).app).get(
        f"/jwt/acme?jwt={in_seconds}", headers={"Accept": "application/json"})
    assert seconds.status_code == 401  # an iat in seconds is 1970 in milliseconds: expired


def test_zendesk_messaging_needs_its_key_id() -> None:
    with pytest.raises(ConfigurationError, match="key_id"):
        services.zendesk_messaging(key=MESSAGING, key_id=" ")
