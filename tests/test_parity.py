"""Parity, proved: one corpus of requests through both skins, byte-identical answers.

Each skin gets the same stack (issuer over four verifiers over a plain app) and
the same raw requests, built the way real servers build them (WSGI environ,
ASGI scope) so odd paths and repeated headers reach the middleware unchanged.
Randomness (``jti``, session ids) is replaced by a counter reset per skin, so
even signed tokens in ``Location`` must match.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import KEY, OTHER_KEY, USERS, Answer, Clock, Request, call_asgi, call_wsgi

from sso_middleware import asgi, services, wsgi
from sso_middleware.keys import Key
from sso_middleware.placements import FormField
from sso_middleware.principal import Principal
from sso_middleware.session import Sessions
from sso_middleware.tokens import sign

NOW = 1_800_000_000
FORM_KEY = "form-receiver-key-0123456789-abcdefghijk"
HELPSCOUT_KEY = "helpscout-docs-key-" + "0123456789abcdef" * 3
# deterministic signatures (RSA PKCS#1 v1.5, Ed25519), so tokens in answers compare byte for byte
RSA_KEY, ED_KEY = Key.generate("RS256"), Key.generate("EdDSA")
FRESHWORKS = ("state=s%3D&nonce=n0nce-123&redirect_uri="
              "https%3A%2F%2Facme.freshworks.com%2Fsp%2FOIDC%2F1%2Fimplicit")


def user(request: Any) -> Any:
    return USERS.get(request.headers.get("x-user", ""))


def stack(module: Any, clock: Clock) -> Any:
    frill = services.frill(key=KEY, hosts=["feedback.acme.com"])
    invoiced = services.invoiced(key=OTHER_KEY, company="acme",
                                 customer_id=lambda u: u.attributes["invoiced_id"])
    app = passthrough_wsgi if module is wsgi else passthrough_asgi
    app = module.VerifierMiddleware(app, key=FORM_KEY, path="/form", placement=FormField("jwt"),
                                    cookie_name="d_session", clock=clock)
    app = module.VerifierMiddleware(app, key={"keys": [RSA_KEY.public_jwk()]}, path="/jwks",
                                    session_key="g" * 32, cookie_name="g_session", clock=clock)
    app = module.VerifierMiddleware(app, service=services.upvoty(key=FORM_KEY, board="acme"),
                                    cookie_name="e_session", clock=clock)
    app = module.VerifierMiddleware(app, service=invoiced, path="/c", cookie_name="c_session", clock=clock)
    app = module.VerifierMiddleware(app, service=frill, path="/b", cookie_name="b_session", clock=clock)
    app = module.VerifierMiddleware(app, key=KEY, path="/auth", cookie_name="a_session", clock=clock)
    # outside Invoiced's receiver, whose '/login/{token}' would take '/login/jwt-callback' as a token
    app = module.VerifierMiddleware(app, service=services.mintlify(key=ED_KEY, docs="https://docs.acme.com"),
                                    cookie_name="f_session", clock=clock)
    return module.IssuerMiddleware(
        app, user=user, login_url="/login", clock=clock,
        services=[frill, invoiced, services.zendesk(key=KEY, subdomain="acme"), services.canny(key=KEY),
                  services.helpscout(key=HELPSCOUT_KEY, site="https://docs.acme.com"),
                  services.upvoty(key=KEY, board="acme"), services.userjot(key=KEY, project_id="p-1"),
                  services.metabase(key=KEY, site="https://bi.acme.com", extra_claims={"groups": ["a"]}),
                  services.gitbook(key=KEY, site="https://docs.acme.com"),
                  services.uservoice(key=KEY, subdomain="acme"), services.intercom(key=KEY),
                  services.tableau(secret=OTHER_KEY, secret_id="s1", client_id="c1"),
                  services.freshworks(key=RSA_KEY, org="acme"),
                  services.mintlify(key=ED_KEY, docs="https://docs.acme.com")],
    )


def _page(user_id: object) -> bytes:
    return json.dumps({"passed": True, "user": user_id}).encode()


def passthrough_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [_page(environ.get("REMOTE_USER"))]


async def passthrough_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    found = scope.get("user")
    body = _page(found.identity if found is not None and found.is_authenticated else None)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


# -- the corpus ----------------------------------------------------------------------


def tok(key: str = KEY, alg: str = "HS256", **claims: Any) -> str:
    base = {"sub": "ada", "id": 7, "email": "ada@example.com", "name": "Ada", "iss": "app",
            "iat": NOW, "exp": NOW + 120}
    base.update(claims)
    return sign({k: v for k, v in base.items() if v is not None}, Key(key, algorithm=alg))


def claims_for(**extra: Any) -> dict[str, Any]:
    return {"sub": "ada", "iat": NOW, "exp": NOW + 60, "jti": f"k-{sorted(extra)}", **extra}


def session(name: str, key: str, service: str) -> str:
    cookie = Sessions(Key(Key(key).derive("session")), cookie_name=name).open(
        Principal("ada", "ada@example.com", "Ada"), service, NOW, False)
    return cookie.split(";", 1)[0]


def corpus() -> list[Request]:
    good_a, good_b, good_c, good_d = (tok(jti="a1"), tok(jti="b1"), tok(OTHER_KEY, sub=1234, jti="c1"),
                                      tok(FORM_KEY, jti="d1"))
    expired, no_exp, other_key = tok(exp=NOW - 3600, jti="x1"), tok(exp=None, jti="x2"), tok(OTHER_KEY)
    good_e, no_exp_e = tok(FORM_KEY, jti="e1"), tok(FORM_KEY, exp=None, iat=None, jti="e2")  # Upvoty's
    paths = ["/", "/x", "/sso/frill", "/sso/invoiced", "/sso/zendesk", "/sso/canny", "/sso/helpscout",
             "/sso/nope", "/auth", "/auth/", "/auth/logout", "/b/logout", "/login/", f"/login/{good_c}",
             "/login/a/b", "/form", "//evil.com/", "/%2F%2Fevil.com/", "/caf%C3%A9", "/%FF", "/login",
             "/sso/upvoty", "/sso/userjot", "/sso/metabase", "/sso/gitbook", "/sso/uservoice",
             f"/front/handleSSO/{good_e}/", f"/front/handleSSO/{no_exp_e}/", "/front/handleSSO/a/b/",
             "/sso/intercom/token", "/sso/tableau/token", "/sso/intercom", "/sso/freshworks", "/sso/mintlify",
             "/sso/.well-known/jwks.json", "/login/jwt-callback", "/jwks"]
    queries = ["", "redirect=https%3A%2F%2Ffeedback.acme.com%2Fb%3Fx%3D1", "redirect=https://evil.com/",
               "redirect=a&redirect=b", f"token={good_a}", f"token={good_a}&next=/dash",
               f"token={good_a}&token={good_a}", "token=junk.junk.junk", f"token={expired}",
               f"token={no_exp}", f"token={other_key}", f"ssoToken={good_b}", f"x=1&ssoToken={good_b}&y=2",
               "returnTo=/article/1", "returnTo=//evil.com", "companyID=c1&redirect=https://canny.io/x",
               "companyID=" + "x" * 600, "q=" + "%" * 9000, "state=s-1&x=2",
               "redirectUrl=https%3A%2F%2Facme.upvoty.com%2Fb", "return_to=%2Fquestion%2F1",
               "location=%2Fguides", "location=https://evil.com/", FRESHWORKS, FRESHWORKS + "&nonce=2",
               FRESHWORKS.replace("n0nce-123", "%3C%3E"), "redirect=%2Fquickstart",
               f"token={sign(claims_for(), RSA_KEY)}"]
    people = [[], [("X-User", "ada")], [("X-User", "bob"), ("Accept", "application/json")],
              [("X-User", "ada"), ("Accept", "application/json, text/html")],
              [("X-User", "ada"), ("Sec-Fetch-Site", "cross-site")],
              [("X-User", "ada"), ("Origin", "http://localhost"), ("Host", "localhost")]]
    requests: list[Request] = []
    for path, query, headers in itertools.product(paths, queries, people[:2]):
        requests.append(("GET", f"{path}?{query}" if query else path, headers, b""))
    for method, path in itertools.product(["HEAD", "POST", "PUT", "DELETE", "OPTIONS"], paths):
        requests.append((method, path, people[1], b""))
    for path, headers in itertools.product(["/sso/intercom/token", "/sso/tableau/token"], people[4:]):
        requests.append(("GET", path, headers, b""))
    fragment = sign(claims_for(expiresAt=NOW + 9), ED_KEY)
    for body, headers in itertools.product([f"token={fragment}".encode(), b"token=a.b.c", b""],
                                           [people[2], people[4]]):
        requests.append(("POST", "/login/jwt-callback?redirect=%2Fquickstart", headers, body))
    for path, headers in itertools.product(["/sso/frill", "/auth", "/auth/logout", "/login/x.y.z", "/form"],
                                           people):
        requests.append(("GET", f"{path}?token={tok(jti='j-' + path)}", headers, b""))
    form_bodies = [b"", f"jwt={good_d}".encode(), f"jwt={good_d}".encode(), b"jwt=a&jwt=b",
                   b"jwt=" + b"x" * 20_000, b"\xff\xfe", f"jwt={tok(FORM_KEY, jti='d2')}&x=1".encode()]
    for path, body, method in itertools.product(["/form", "/auth/logout", "/b/logout", "/auth", "/x"],
                                                form_bodies, ["POST", "GET"]):
        requests.append((method, path, people[2], body))
    cookies = [session("a_session", KEY, "sso"), session("b_session", KEY, "frill"),
               "a_session=garbage", session("a_session", KEY, "sso") + "; a_session=other",
               session("a_session", OTHER_KEY, "sso"), "theme=dark"]
    for path, cookie in itertools.product(["/", "/x", "/auth/logout", "/sso/frill"], cookies):
        requests.append(("GET", path, [("Cookie", cookie)], b""))
        requests.append(("GET", path, [("Cookie", "theme=dark"), ("Cookie", cookie)], b""))
    return requests


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Replace the random ids with a counter; calling the fixture's value restarts it."""
    counter = itertools.count()

    class Counting:
        @staticmethod
        def token_urlsafe(n: int = 16) -> str:
            return f"id-{next(counter):08d}"

    def reset() -> None:
        nonlocal counter
        counter = itertools.count()

    monkeypatch.setattr("sso_middleware.service.secrets", Counting)
    monkeypatch.setattr("sso_middleware.session.secrets", Counting)
    yield reset


def test_both_skins_answer_the_corpus_identically(deterministic: Callable[[], None]) -> None:
    requests = corpus()
    answers: dict[str, list[Answer]] = {}
    for name, module, call in (("wsgi", wsgi, call_wsgi), ("asgi", asgi, call_asgi)):
        deterministic()
        app = stack(module, Clock(float(NOW)))
        answers[name] = [call(app, request) for request in requests]
    assert len(requests) >= 500
    for request, w, a in zip(requests, answers["wsgi"], answers["asgi"], strict=True):
        assert (w[0], sorted(w[1]), w[2]) == (a[0], sorted(a[1]), a[2]), request
    statuses = {status for status, _, _ in answers["wsgi"]}
    assert {200, 303, 400, 401, 405} <= statuses  # the corpus reaches every kind of answer
    logins = sum(1 for _, headers, _ in answers["wsgi"] if _opens_session(headers))
    assert logins >= 5
    for reached in (b'"expires_at"', b'"keys":[{', b"history.replaceState", b"cross_site_request",
                    b"id_token=", b"#eyJ"):
        assert any(_carries(answer, reached) for answer in answers["wsgi"]), reached


def _opens_session(headers: list[tuple[str, str]]) -> bool:
    return any(n == "set-cookie" and "=e" in v for n, v in headers)


def _carries(answer: Answer, marker: bytes) -> bool:
    _, headers, body = answer
    return marker in body or any(marker.decode() in value for _, value in headers)
