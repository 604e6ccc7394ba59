"""OpenID Connect provider mode (issue 26): the package on its own, each endpoint called with
neutral Requests; then the issuer's ``openid=`` hook on both skins (tests further down)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from helpers import Clock

from sso_middleware.errors import ConfigurationError
from sso_middleware.keys import Key, KeySet
from sso_middleware.messages import Reply, Request
from sso_middleware.oidc import Client, OpenIDProvider
from sso_middleware.oidc.endpoint import Endpoint
from sso_middleware.principal import Principal
from sso_middleware.replay import MemoryReplayStore

ISSUER = "https://app.acme.com/sso"
RSA = Key.generate("RS256")
RSA_OLD = Key.generate("RS256")
EC = Key.generate("ES256")
SECRET = "grafana-client-secret-0123456789abcdef"
GRAFANA_CB = "https://grafana.acme.com/login/generic_oauth"
SPA_CB = "https://spa.acme.com/callback"
ADA = Principal(
    7,
    "ada@acme.com",
    "Ada Lovelace",
    {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_username": "ada",
        "picture": "https://acme.com/ada.png",
        "groups": ["admins", "staff"],
        "email_verified": True,
    },
)


def clients() -> list[Client]:
    return [
        Client(
            "grafana",
            secret=SECRET,
            redirect_uris=[GRAFANA_CB],
            extra_claims=lambda p: {
                "role": "Admin" if "admins" in p.attributes.get("groups", ()) else "Viewer"
            },
        ),
        Client("spa", redirect_uris=[SPA_CB]),
        Client("ec", secret=SECRET, redirect_uris=["https://ec.acme.com/cb"], algorithm="ES256"),
    ]


def provider(**options: Any) -> OpenIDProvider:
    options.setdefault("key", [RSA, EC])
    options.setdefault("clients", clients())
    return OpenIDProvider(issuer=ISSUER, **options)


class OP:
    """One provider's endpoints, called as the middleware would, with a controllable clock."""

    def __init__(self, clock: Clock, login_url: str | None = "/login", **options: Any) -> None:
        self.provider = provider(**options)
        self.clock = clock
        self.routes: dict[str, Endpoint] = dict(
            self.provider.routes("/sso", login_url=login_url, clock=clock)
        )

    def call(
        self,
        path: str,
        *,
        method: str = "GET",
        query: str = "",
        user: object = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Reply:
        request = Request(method, path, query=query, headers=headers or {}, body=body)
        return self.routes[path].run(request, user)

    def authorize(self, user: object = ADA, **params: str) -> Reply:
        return self.call("/sso/oidc/authorize", query=urlencode(params), user=user)

    def token(self, form: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        return self.call(
            "/sso/oidc/token",
            method="POST",
            body=urlencode(form).encode(),
            headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def userinfo(self, token: str) -> Reply:
        return self.call("/sso/oidc/userinfo", headers={"authorization": f"Bearer {token}"})

    def code(self, client: str = "grafana", uri: str = GRAFANA_CB, **params: str) -> str:
        params = {
            "response_type": "code",
            "client_id": client,
            "redirect_uri": uri,
            "scope": "openid email profile groups",
            "state": "st-1",
            **params,
        }
        reply = self.authorize(**params)
        assert reply.status == 303, reply
        return query(reply)["code"]


def header(reply: Reply, name: str) -> str | None:
    return next((v for k, v in reply.headers if k.lower() == name.lower()), None)


def query(reply: Reply) -> dict[str, str]:
    location = header(reply, "Location") or ""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def body(reply: Reply) -> Any:
    return json.loads(reply.body)


def basic(client_id: str = "grafana", secret: str = SECRET) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def verify_id_token(
    token: str, keys: KeySet, audience: str, now: float, nonce: str | None = None
) -> dict[str, Any]:
    """As a relying party would: PyJWT with the published JWKS, by kid."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(j for j in keys.jwks()["keys"] if j["kid"] == kid)
    key = jwt.PyJWK(jwk).key
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[jwk["alg"]],
        audience=audience,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        leeway=0,
    )
    assert claims.get("nonce") == nonce
    return claims


@pytest.fixture
def op(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> OP:
    monkeypatch.setattr("jwt.api_jwt.datetime", _Frozen(clock), raising=False)
    return OP(clock)


class _Frozen:
    """PyJWT reads the time from ``datetime.now(tz=timezone.utc)``: the tests' clock instead."""

    def __init__(self, clock: Clock) -> None:
        import datetime

        self._clock, self._datetime = clock, datetime.datetime

    def now(self, tz: Any = None) -> Any:
        return self._datetime.fromtimestamp(self._clock.now, tz)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datetime, name)


# -- configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    "options, words",
    [
        pytest.param({"issuer": "http://app.acme.com/sso"}, "must be https", id="http-issuer"),
        pytest.param({"issuer": "https://app.acme.com/sso/"}, "trailing slash", id="trailing-slash"),
        pytest.param({"issuer": "https://app.acme.com/sso?x=1"}, "no query", id="issuer-query"),
        pytest.param({"key": EC}, "RS256", id="no-rsa-key"),
        pytest.param({"key": "a-shared-secret-of-at-least-32-bytes!!"}, "shared secret", id="hmac-key"),
        pytest.param({"key": [Key(RSA.public_pem())]}, "private", id="public-key-only"),
        pytest.param({"clients": []}, "at least one Client", id="no-clients"),
        pytest.param(
            {"clients": [Client("a", redirect_uris=[SPA_CB]), Client("a", redirect_uris=[SPA_CB])]},
            "two clients",
            id="duplicate-client",
        ),
        pytest.param(
            {"key": RSA, "clients": [Client("ec", secret=SECRET, redirect_uris=[SPA_CB], algorithm="ES256")]},
            "no ES256 key",
            id="client-alg-without-key",
        ),
        pytest.param({"code_ttl": 600}, "code_ttl", id="long-code"),
        pytest.param({"id_token_ttl": 3600}, "id_token_ttl", id="long-id-token"),
    ],
)
def test_provider_configuration_refused(options: dict[str, Any], words: str) -> None:
    options = {"issuer": ISSUER, "key": RSA, "clients": clients()[:2], **options}
    with pytest.raises(ConfigurationError, match=words):
        OpenIDProvider(**options)


@pytest.mark.parametrize(
    "options, words",
    [
        pytest.param({"redirect_uris": ["http://grafana.acme.com/cb"]}, "not https", id="http-redirect"),
        pytest.param({"redirect_uris": ["https://grafana.acme.com/cb#x"]}, "fragment", id="fragment"),
        pytest.param({"redirect_uris": "https://grafana.acme.com/cb"}, "is a list", id="string-not-list"),
        pytest.param({"redirect_uris": []}, "at least one", id="no-redirect"),
        pytest.param({"redirect_uris": ["/cb"]}, "not https", id="relative"),
        pytest.param({"secret": "short"}, "at least 16", id="short-secret"),
        pytest.param({"secret": SECRET + "\n"}, "strip it", id="secret-newline"),
        pytest.param({"scopes": ["email"]}, "openid", id="scopes-without-openid"),
        pytest.param({"scopes": ["openid", "offline_access"]}, "unknown", id="unknown-scope"),
        pytest.param({"extra_claims": {"sub": "x"}}, "may not set sub", id="reserved-claim"),
        pytest.param({"algorithm": "HS256"}, "RS256", id="hmac-alg"),
    ],
)
def test_client_configuration_refused(options: dict[str, Any], words: str) -> None:
    options = {"secret": SECRET, "redirect_uris": [GRAFANA_CB], **options}
    with pytest.raises(ConfigurationError, match=words):
        Client("grafana", **options)


def test_loopback_http_is_allowed_for_local_services() -> None:
    assert Client("local", redirect_uris=["http://127.0.0.1:3000/cb", "http://localhost/cb"]).public
    assert OpenIDProvider(issuer="http://127.0.0.1:8000/sso", key=RSA, clients=clients()[:1])


def test_issuer_must_end_with_the_prefix() -> None:
    with pytest.raises(ConfigurationError, match="does not end with the prefix '/auth'"):
        provider().routes("/auth")
    assert "/root/sso/oidc/token" not in provider().routes("/sso")  # (a root path is the site's, not ours)


def test_discovery(op: OP) -> None:
    reply = op.call("/sso/.well-known/openid-configuration")
    doc = body(reply)
    assert reply.status == 200 and doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "/oidc/authorize"
    assert doc["token_endpoint"] == ISSUER + "/oidc/token"
    assert doc["userinfo_endpoint"] == ISSUER + "/oidc/userinfo"
    assert doc["jwks_uri"] == ISSUER + "/.well-known/jwks.json"
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert doc["scopes_supported"] == ["openid", "profile", "email", "groups"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"email", "groups", "preferred_username"} <= set(doc["claims_supported"])
    assert op.call("/sso/.well-known/openid-configuration", method="POST").status == 405


# -- authorize --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"client_id": "nobody", "redirect_uri": GRAFANA_CB}, id="unknown-client"),
        pytest.param({"client_id": "grafana", "redirect_uri": "https://evil.com/cb"}, id="foreign-redirect"),
        pytest.param({"client_id": "grafana", "redirect_uri": GRAFANA_CB + "/"}, id="trailing-slash"),
        pytest.param({"client_id": "grafana", "redirect_uri": GRAFANA_CB + "?x=1"}, id="added-query"),
        pytest.param({"client_id": "grafana", "redirect_uri": GRAFANA_CB.upper()}, id="case"),
        pytest.param({"client_id": "grafana", "redirect_uri": SPA_CB}, id="another-clients-uri"),
        pytest.param({"client_id": "grafana"}, id="no-redirect-uri"),
        pytest.param({}, id="no-client"),
    ],
)
def test_unknown_client_or_redirect_mismatch_is_a_page_never_a_redirect(
    op: OP, params: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sso_middleware")
    reply = op.authorize(response_type="code", scope="openid", state="st", **params)
    assert reply.status == 400 and header(reply, "Location") is None
    assert b"evil" not in reply.body and b"<html" in reply.body
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1


def test_repeated_parameter_is_a_page(op: OP) -> None:
    reply = op.call(
        "/sso/oidc/authorize", query=f"client_id=grafana&redirect_uri={GRAFANA_CB}&redirect_uri=x", user=ADA
    )
    assert reply.status == 400 and header(reply, "Location") is None


@pytest.mark.parametrize(
    "params, error",
    [
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"response_type": "code id_token"}, "unsupported_response_type", id="hybrid"),
        pytest.param({"scope": "email profile"}, "invalid_scope", id="no-openid"),
        pytest.param({"code_challenge": "a" * 43}, "invalid_request", id="plain-by-default"),
        pytest.param(
            {"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request", id="plain"
        ),
        pytest.param(
            {"code_challenge": "short", "code_challenge_method": "S256"},
            "invalid_request",
            id="bad-challenge",
        ),
        pytest.param({"prompt": "none login"}, "invalid_request", id="prompt-none-and-login"),
        pytest.param({"request": "eyJ..."}, "request_not_supported", id="request-object"),
        pytest.param({"request_uri": "https://x"}, "request_uri_not_supported", id="request-uri"),
        pytest.param({"response_mode": "fragment"}, "invalid_request", id="fragment-mode"),
    ],
)
def test_bad_requests_go_back_to_the_client_with_state_and_iss(
    op: OP, params: dict[str, str], error: str
) -> None:
    base = {
        "response_type": "code",
        "client_id": "grafana",
        "redirect_uri": GRAFANA_CB,
        "scope": "openid",
        "state": "xyz",
    }
    reply = op.authorize(**{**base, **params})
    assert reply.status == 303 and (header(reply, "Location") or "").startswith(GRAFANA_CB + "?")
    assert query(reply)["error"] == error and query(reply)["state"] == "xyz" and query(reply)["iss"] == ISSUER
    assert "code" not in query(reply)


def test_public_client_must_use_pkce(op: OP) -> None:
    reply = op.authorize(response_type="code", client_id="spa", redirect_uri=SPA_CB, scope="openid")
    assert query(reply)["error"] == "invalid_request" and "state" not in query(reply)


def test_anonymous_goes_to_login_and_resumes(op: OP) -> None:
    params = {
        "response_type": "code",
        "client_id": "grafana",
        "redirect_uri": GRAFANA_CB,
        "scope": "openid",
        "state": "s",
    }
    reply = op.authorize(user=None, **params)
    location = header(reply, "Location") or ""
    assert reply.status == 303 and location.startswith("/login?next=")
    next_url = parse_qs(urlsplit(location).query)["next"][0]
    path, _, again = next_url.partition("?")
    assert path == "/sso/oidc/authorize"
    resumed = op.call(path, query=again, user=ADA)
    assert query(resumed)["state"] == "s" and query(resumed)["code"]


def test_prompt_none_without_session_is_login_required(op: OP) -> None:
    reply = op.authorize(
        user=None,
        response_type="code",
        client_id="grafana",
        redirect_uri=GRAFANA_CB,
        scope="openid",
        prompt="none",
        state="s",
    )
    assert query(reply) == {"error": "login_required", "state": "s", "iss": ISSUER}


def test_no_login_url_is_login_required(clock: Clock) -> None:
    reply = OP(clock, login_url=None).authorize(
        user=None, response_type="code", client_id="grafana", redirect_uri=GRAFANA_CB, scope="openid"
    )
    assert query(reply)["error"] == "login_required"


def test_success_redirects_with_code_state_and_iss(op: OP) -> None:
    reply = op.authorize(
        response_type="code", client_id="grafana", redirect_uri=GRAFANA_CB, scope="openid", state="a b&c"
    )
    assert reply.status == 303 and header(reply, "Cache-Control") == "no-store"
    found = query(reply)
    assert found["state"] == "a b&c" and found["iss"] == ISSUER and len(found["code"]) > 40
    assert set(found) == {"code", "state", "iss"}
    assert ADA.email not in (header(reply, "Location") or "")  # the code is sealed, not just signed


# -- token --------------------------------------------------------------------------


def test_code_flow_confidential_client_basic(op: OP) -> None:
    code = op.code(nonce="n-0S6_WzA2Mj")
    reply = op.token({"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}, basic())
    assert reply.status == 200, reply.body
    assert header(reply, "Cache-Control") == "no-store" and header(reply, "Pragma") == "no-cache"
    answer = body(reply)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 600
    assert answer["scope"] == "openid email profile groups"
    claims = verify_id_token(
        answer["id_token"], op.provider.keys, "grafana", op.clock.now, nonce="n-0S6_WzA2Mj"
    )
    assert claims["sub"] == "7" and claims["azp"] == "grafana" and claims["auth_time"] == int(op.clock.now)
    assert claims["exp"] - claims["iat"] == 300 and claims["email"] == "ada@acme.com"
    assert claims["role"] == "Admin" and claims["groups"] == ["admins", "staff"]
    head = jwt.get_unverified_header(answer["id_token"])
    assert head["alg"] == "RS256" and head["kid"] == RSA.kid
    half = hashlib.sha256(answer["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(half).rstrip(b"=").decode()
    info = op.userinfo(answer["access_token"])
    assert info.status == 200 and header(info, "Cache-Control") == "no-store"
    assert body(info) == {
        "sub": "7",
        "email": "ada@acme.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_username": "ada",
        "picture": "https://acme.com/ada.png",
        "groups": ["admins", "staff"],
        "role": "Admin",
    }


def test_no_nonce_means_no_nonce_claim(op: OP) -> None:
    code = op.code()
    answer = body(
        op.token({"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}, basic())
    )
    claims = verify_id_token(answer["id_token"], op.provider.keys, "grafana", op.clock.now)
    assert "nonce" not in claims


def test_client_secret_post_and_scopes_narrow_the_claims(op: OP) -> None:
    code = op.code(scope="openid email")
    reply = op.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": GRAFANA_CB,
            "client_id": "grafana",
            "client_secret": SECRET,
        }
    )
    answer = body(reply)
    assert answer["scope"] == "openid email"
    assert body(op.userinfo(answer["access_token"])) == {
        "sub": "7",
        "email": "ada@acme.com",
        "email_verified": True,
        "role": "Admin",
    }


def test_public_client_with_pkce(op: OP) -> None:
    verifier, challenge = pkce()
    code = op.code("spa", SPA_CB, code_challenge=challenge, code_challenge_method="S256")
    reply = op.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SPA_CB,
            "client_id": "spa",
            "code_verifier": verifier,
        }
    )
    assert reply.status == 200, reply.body
    verify_id_token(body(reply)["id_token"], op.provider.keys, "spa", op.clock.now)


def test_es256_client(op: OP) -> None:
    code = op.code("ec", "https://ec.acme.com/cb")
    answer = body(
        op.token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://ec.acme.com/cb"},
            basic("ec"),
        )
    )
    assert jwt.get_unverified_header(answer["id_token"])["kid"] == EC.kid
    verify_id_token(answer["id_token"], op.provider.keys, "ec", op.clock.now)


def _refused(reply: Reply, error: str, status: int = 400) -> None:
    assert (reply.status, body(reply)["error"]) == (status, error), reply.body
    assert header(reply, "Cache-Control") == "no-store"


def test_reused_code_is_invalid_grant_and_revokes_what_it_issued(op: OP) -> None:
    code = op.code()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}
    first = body(op.token(form, basic()))
    assert op.userinfo(first["access_token"]).status == 200
    op.clock.advance(1)
    _refused(op.token(form, basic()), "invalid_grant")
    revoked = op.userinfo(first["access_token"])
    assert revoked.status == 401 and 'error="invalid_token"' in (header(revoked, "WWW-Authenticate") or "")


def test_pkce_verifier_wrong_or_missing(op: OP) -> None:
    verifier, challenge = pkce()
    code = op.code("spa", SPA_CB, code_challenge=challenge, code_challenge_method="S256")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": SPA_CB, "client_id": "spa"}
    _refused(op.token(form), "invalid_grant")
    _refused(op.token({**form, "code_verifier": pkce()[0]}), "invalid_grant")
    _refused(op.token({**form, "code_verifier": "short"}), "invalid_grant")
    assert op.token({**form, "code_verifier": verifier}).status == 200  # refusals did not burn the code


def test_verifier_without_challenge_is_refused(op: OP) -> None:
    form = {
        "grant_type": "authorization_code",
        "code": op.code(),
        "redirect_uri": GRAFANA_CB,
        "code_verifier": pkce()[0],
    }
    _refused(op.token(form, basic()), "invalid_grant")


@pytest.mark.parametrize(
    "change, error, status",
    [
        pytest.param({"redirect_uri": GRAFANA_CB + "/"}, "invalid_grant", 400, id="redirect-uri-mismatch"),
        pytest.param({"redirect_uri": None}, "invalid_grant", 400, id="redirect-uri-missing"),
        pytest.param({"code": "AQ" + "A" * 80}, "invalid_grant", 400, id="forged-code"),
        pytest.param({"code": ""}, "invalid_grant", 400, id="empty-code"),
        pytest.param({"grant_type": "refresh_token"}, "unsupported_grant_type", 400, id="refresh-grant"),
        pytest.param(
            {"grant_type": "client_credentials"}, "unsupported_grant_type", 400, id="client-credentials"
        ),
    ],
)
def test_token_request_refused(op: OP, change: dict[str, str | None], error: str, status: int) -> None:
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB, **change}
    _refused(op.token({k: v for k, v in form.items() if v is not None}, basic()), error, status)


def test_tampered_code(op: OP) -> None:
    code = op.code()
    flipped = code[:30] + ("A" if code[30] != "A" else "B") + code[31:]
    _refused(
        op.token({"grant_type": "authorization_code", "code": flipped, "redirect_uri": GRAFANA_CB}, basic()),
        "invalid_grant",
    )


def test_expired_code(op: OP) -> None:
    code = op.code()
    op.clock.advance(61)
    _refused(
        op.token({"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}, basic()),
        "invalid_grant",
    )


def test_code_of_another_client(op: OP) -> None:
    code = op.code()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://ec.acme.com/cb"}
    _refused(op.token(form, basic("ec")), "invalid_grant")


def test_client_authentication(op: OP) -> None:
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB}
    wrong = op.token(form, basic(secret=SECRET[:-1] + "x"))
    _refused(wrong, "invalid_client", 401)
    assert (header(wrong, "WWW-Authenticate") or "").startswith("Basic ")
    _refused(op.token(form, basic("nobody")), "invalid_client", 401)
    _refused(
        op.token({**form, "client_id": "grafana", "client_secret": "wrong-secret-wrong-secret"}),
        "invalid_client",
    )
    _refused(op.token({**form, "client_id": "grafana"}), "invalid_client")  # confidential: a secret is due
    _refused(op.token(form), "invalid_client")
    _refused(op.token({**form, "client_secret": SECRET}, basic()), "invalid_request")  # two methods
    assert op.token(form, basic()).status == 200  # none of those burned the code


def test_token_endpoint_takes_form_posts_only(op: OP) -> None:
    assert op.call("/sso/oidc/token", query="grant_type=authorization_code").status == 405
    reply = op.call(
        "/sso/oidc/token",
        method="POST",
        body=b'{"grant_type": "authorization_code"}',
        headers={"content-type": "application/json", **basic()},
    )
    _refused(reply, "invalid_request")
    form = urlencode({"grant_type": "authorization_code", "code": "x"}) + "&code=y"
    _refused(
        op.call(
            "/sso/oidc/token",
            method="POST",
            body=form.encode(),
            headers={"content-type": "application/x-www-form-urlencoded", **basic()},
        ),
        "invalid_request",
    )


class _BrokenStore(MemoryReplayStore):
    broken = True

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        if self.broken:
            raise TimeoutError("redis is away")
        return super().claim(key, expires_at, now)


def test_store_failure_fails_closed_and_keeps_the_code(clock: Clock) -> None:
    store = _BrokenStore()
    op = OP(clock, replay_store=store)
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB}
    reply = op.token(form, basic())
    assert (reply.status, body(reply)["error"]) == (503, "temporarily_unavailable")
    store.broken = False
    assert op.token(form, basic()).status == 200


# -- userinfo -----------------------------------------------------------------------


def _access(op: OP) -> str:
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB}
    return str(body(op.token(form, basic()))["access_token"])


def test_userinfo_refusals_carry_www_authenticate(op: OP) -> None:
    access = _access(op)
    missing = op.call("/sso/oidc/userinfo")
    assert missing.status == 401 and header(missing, "WWW-Authenticate") == 'Bearer realm="userinfo"'
    for token in (access[:-3] + "AAA", "not-a-token", access + "x"):
        reply = op.userinfo(token)
        assert reply.status == 401 and 'error="invalid_token"' in (header(reply, "WWW-Authenticate") or "")
    op.clock.advance(601 + 30)
    assert op.userinfo(access).status == 401


def test_id_token_is_not_an_access_token(op: OP) -> None:
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB}
    id_token = body(op.token(form, basic()))["id_token"]
    assert op.userinfo(id_token).status == 401


def test_userinfo_by_post(op: OP) -> None:
    reply = op.call("/sso/oidc/userinfo", method="POST", headers={"authorization": f"Bearer {_access(op)}"})
    assert reply.status == 200 and body(reply)["sub"] == "7"


# -- rotation, logging, robustness -------------------------------------------------


def test_tokens_signed_before_a_rotation_verify_through_the_jwks(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jwt.api_jwt.datetime", _Frozen(clock), raising=False)
    before = OP(clock, key=[RSA_OLD, EC])
    form = {"grant_type": "authorization_code", "code": before.code(), "redirect_uri": GRAFANA_CB}
    old = body(before.token(form, basic()))
    after = OP(clock, key=[RSA, RSA_OLD, EC])  # rotated: the new key signs, the old one stays published
    assert {RSA.kid, RSA_OLD.kid} <= {j["kid"] for j in after.provider.keys.jwks()["keys"]}
    verify_id_token(old["id_token"], after.provider.keys, "grafana", clock.now)
    assert after.userinfo(old["access_token"]).status == 200
    form = {"grant_type": "authorization_code", "code": after.code(), "redirect_uri": GRAFANA_CB}
    new = body(after.token(form, basic()))
    assert jwt.get_unverified_header(new["id_token"])["kid"] == RSA.kid


def test_logs_hold_no_tokens_secrets_or_claims(op: OP, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code = op.code(nonce="nonce-value-123")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}
    answer = body(op.token(form, basic()))
    op.token(form, basic())
    op.userinfo(answer["access_token"])
    op.userinfo("garbage")
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        code,
        SECRET,
        answer["access_token"],
        answer["id_token"],
        "ada@acme.com",
        "nonce-value-123",
    ):
        assert secret not in text
    assert "code=code_replayed" in text


@pytest.mark.parametrize(
    "path",
    [
        "/sso/oidc/authorize",
        "/sso/oidc/token",
        "/sso/oidc/userinfo",
        "/sso/.well-known/openid-configuration",
        "/sso/oidc/logout",
        "/.well-known/webfinger",
    ],
)
def test_no_exception_escapes(clock: Clock, path: str) -> None:
    op = OP(clock, clients=[*logout_clients()[:1], *untrusted()[1:]], end_session=Ended(),
            webfinger_domains=["acme.com"])
    weird = [
        "",
        "\x00",
        "%ff%fe",
        "a=b&a=c",
        "client_id=grafana&redirect_uri=" + GRAFANA_CB + "&scope=%00openid",
        "code=" + "A" * 9000,
        "response_type=code&client_id=grafana&redirect_uri="
        + GRAFANA_CB
        + "&scope=openid&nonce="
        + "n" * 600,
        "grant_type=authorization_code&code=%F0%9F%98%80",
    ]
    headers = [
        {},
        {"authorization": "Basic %%%"},
        {"authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()},
        {"authorization": "Bearer " + "a.b.c"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"authorization": "Bearer"},
    ]
    for method in ("GET", "POST", "PUT", "HEAD"):
        for text in weird:
            for extra in headers:
                reply = op.call(
                    path,
                    method=method,
                    query=text,
                    body=text.encode("utf-8", "surrogatepass"),
                    headers=dict(extra),
                    user=ADA,
                )
                assert reply.status < 500, (method, text, extra, reply.body[:200])


def test_a_broken_extra_claims_callable_is_a_500_page_not_a_traceback(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Client("grafana", secret=SECRET, redirect_uris=[GRAFANA_CB], extra_claims=lambda p: 1 / 0)
    op = OP(clock, clients=[broken])
    reply = op.authorize(response_type="code", client_id="grafana", redirect_uri=GRAFANA_CB, scope="openid")
    assert reply.status == 500 and header(reply, "Location") is None
    assert "ZeroDivisionError" in caplog.text


# -- prompt=login and max_age: when the user signed in ----------------------------------------

FLOW = {
    "response_type": "code",
    "client_id": "grafana",
    "redirect_uri": GRAFANA_CB,
    "scope": "openid email",
    "state": "st-9",
    "nonce": "n-9",
}


def signed_in_at(auth_time: float) -> Principal:
    return Principal(ADA.id, ADA.email, ADA.name, {**ADA.attributes, "auth_time": auth_time})


def resume_at(reply: Reply) -> str:
    """The query the login page sends the user back to (its ``next``), after checking it is ours."""
    location = header(reply, "Location") or ""
    assert reply.status == 303 and location.startswith("/login?"), location
    path, _, again = parse_qs(urlsplit(location).query)["next"][0].partition("?")
    assert path == "/sso/oidc/authorize"
    return again


def auth_time_of(op: OP, reply: Reply) -> int:
    found = query(reply)
    assert "code" in found, found
    form = {"grant_type": "authorization_code", "code": found["code"], "redirect_uri": GRAFANA_CB}
    answer = body(op.token(form, basic()))
    claims = verify_id_token(answer["id_token"], op.provider.keys, "grafana", op.clock.now, "n-9")
    return int(claims["auth_time"])


def test_prompt_login_sends_a_signed_in_user_to_sign_in_again_and_resumes(op: OP) -> None:
    before = op.clock.now - 3600
    reply = op.authorize(user=signed_in_at(before), **FLOW, prompt="login")
    location = header(reply, "Location") or ""
    assert parse_qs(urlsplit(location).query)["prompt"] == ["login"]  # the login page must ask anyway
    again = resume_at(reply)
    op.clock.advance(40)  # the user types their password
    fresh = op.clock.now - 2
    resumed = op.call("/sso/oidc/authorize", query=again, user=signed_in_at(fresh))
    assert query(resumed)["state"] == "st-9" and auth_time_of(op, resumed) == int(fresh)


def test_an_auth_time_a_few_seconds_ahead_of_the_providers_clock_is_a_fresh_sign_in(op: OP) -> None:
    """The app's login ran on a host whose clock is 3 s ahead (the marks allow 5 s for that):
    the sign-in counts, at the provider's now, not as "the app does not say when"."""
    again = resume_at(op.authorize(user=signed_in_at(op.clock.now - 3600), **FLOW, prompt="login"))
    op.clock.advance(10)
    resumed = op.call("/sso/oidc/authorize", query=again, user=signed_in_at(op.clock.now + 3))
    assert auth_time_of(op, resumed) == int(op.clock.now)
    far = op.call("/sso/oidc/authorize", query=again, user=signed_in_at(op.clock.now + 3600))
    assert query(far)["error"] == "login_required"  # an hour ahead is no time at all


def test_a_login_page_that_bounces_back_without_signing_in_is_login_required_not_a_loop(op: OP) -> None:
    old = signed_in_at(op.clock.now - 3600)
    again = resume_at(op.authorize(user=old, **FLOW, prompt="login"))
    op.clock.advance(1)
    resumed = op.call("/sso/oidc/authorize", query=again, user=old)
    found = query(resumed)
    assert resumed.status == 303 and (header(resumed, "Location") or "").startswith(GRAFANA_CB + "?")
    assert found["error"] == "login_required" and found["state"] == "st-9" and "code" not in found
    assert found["error_description"] == "The user came back from the login page without signing in again."


def test_prompt_login_without_the_apps_auth_time_is_login_required(op: OP) -> None:
    found = query(op.authorize(user=ADA, **FLOW, prompt="login"))
    assert found["error"] == "login_required" and "auth_time" in found["error_description"]


@pytest.mark.parametrize("ask", [{"prompt": "login"}, {"max_age": "600"}, {"max_age": "0"}])
def test_without_the_apps_auth_time_a_resumed_anonymous_request_is_still_login_required(
    op: OP, ask: dict[str, str]
) -> None:
    """Nothing but the app's ``auth_time`` shows a fresh sign-in: a mark from a browser where
    nobody was signed in proves nothing about the browser that comes back with it (a session
    holder opens the request in a private window, then resumes it with the session: no password)."""
    again = resume_at(op.authorize(user=None, **FLOW, **ask))
    op.clock.advance(30)
    found = query(op.call("/sso/oidc/authorize", query=again, user=ADA))
    assert found["error"] == "login_required" and "code" not in found, found
    assert "auth_time" in found["error_description"]


def test_an_anonymous_user_who_signs_in_is_given_the_time_they_were_sent_to_sign_in(op: OP) -> None:
    """No freshness asked: the ID token's ``auth_time`` is no earlier than the sign-in."""
    again = resume_at(op.authorize(user=None, **FLOW))
    since = int(op.clock.now)
    op.clock.advance(30)
    resumed = op.call("/sso/oidc/authorize", query=again, user=ADA)
    assert auth_time_of(op, resumed) == since


@pytest.mark.parametrize("max_age, age, fresh", [("600", 300, True), ("600", 900, False), ("0", 1, False)])
def test_max_age(op: OP, max_age: str, age: int, fresh: bool) -> None:
    reply = op.authorize(user=signed_in_at(op.clock.now - age), **FLOW, max_age=max_age)
    if fresh:
        assert auth_time_of(op, reply) == int(op.clock.now - age)
        return
    again = resume_at(reply)
    op.clock.advance(20)  # longer than max_age=0: the resumed request must still not loop
    signed = op.clock.now - 5
    resumed = op.call("/sso/oidc/authorize", query=again, user=signed_in_at(signed))
    assert auth_time_of(op, resumed) == int(signed)


def test_max_age_without_the_apps_auth_time_or_with_prompt_none_is_login_required(op: OP) -> None:
    assert query(op.authorize(user=ADA, **FLOW, max_age="600"))["error"] == "login_required"
    old = signed_in_at(op.clock.now - 900)
    found = query(op.authorize(user=old, **FLOW, max_age="600", prompt="none"))
    assert found["error"] == "login_required"


@pytest.mark.parametrize("max_age", ["\u00b2", "\u0662", "-1", "1.5", ""], ids=["superscript-two",
                         "arabic-indic-two", "negative", "fraction", "empty"])
def test_a_max_age_that_is_not_ascii_digits_is_invalid_request_not_a_500(op: OP, max_age: str) -> None:
    """``str.isdigit`` is true for '²', which ``int`` refuses, and for other scripts' digits."""
    found = query(op.authorize(user=signed_in_at(op.clock.now - 60), **FLOW, max_age=max_age))
    assert found["error"] == "invalid_request" and found["state"] == "st-9", found


def test_a_resume_mark_counts_only_for_its_own_request_and_for_fifteen_minutes(op: OP) -> None:
    old = signed_in_at(op.clock.now - 3600)
    again = resume_at(op.authorize(user=old, **FLOW, prompt="login"))
    other = again.replace("st-9", "st-X")  # the mark is bound to the request's parameters
    assert resume_at(op.call("/sso/oidc/authorize", query=other, user=old))
    op.clock.advance(901)  # too late: sent to sign in again (a fresh mark), not refused
    assert resume_at(op.call("/sso/oidc/authorize", query=again, user=signed_in_at(op.clock.now)))


def test_a_post_authorization_request_resumes_as_a_get_with_its_parameters(op: OP) -> None:
    reply = op.call(
        "/sso/oidc/authorize",
        method="POST",
        body=urlencode(FLOW).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    resumed = op.call("/sso/oidc/authorize", query=resume_at(reply), user=ADA)
    assert query(resumed)["state"] == "st-9" and query(resumed)["code"]


# -- consent for clients marked trusted=False ----------------------------------------------


WIKI_CB = "https://wiki.example.org/oauth/callback"


def untrusted() -> list[Client]:
    return [*clients(), Client("wiki", secret=SECRET, redirect_uris=[WIKI_CB], trusted=False)]


WIKI = {**FLOW, "client_id": "wiki", "redirect_uri": WIKI_CB}


def consent_form(reply: Reply) -> dict[str, str]:
    from helpers import Form

    assert reply.status == 200 and header(reply, "Location") is None, reply
    form = Form()
    form.feed(reply.body.decode())
    assert form.action == "/sso/oidc/authorize"
    return form.fields


def answer_consent(
    op: OP, fields: dict[str, str], decision: str, user: object = ADA, **headers: str
) -> Reply:
    return op.call(
        "/sso/oidc/authorize",
        method="POST",
        body=urlencode({**fields, "decision": decision}).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "sec-fetch-site": "same-origin",
            **headers,
        },
        user=user,
    )


def test_an_untrusted_client_gets_a_consent_page_and_allow_sends_the_code(op: OP) -> None:
    op = OP(op.clock, clients=untrusted())
    page = op.authorize(**WIKI)
    csp = header(page, "Content-Security-Policy") or ""
    assert "form-action 'self' https://wiki.example.org;" in csp
    assert header(page, "Cache-Control") == "no-store"
    text = page.body.decode()
    assert "wiki asks to sign you in" in text and "email address" in text and 'value="deny"' in text
    fields = consent_form(page)
    assert fields["state"] == "st-9" and fields["sso_consent"] and "decision" not in fields
    allowed = answer_consent(op, fields, "allow")
    assert allowed.status == 303 and query(allowed)["code"] and query(allowed)["state"] == "st-9"


def test_deny_is_access_denied_to_the_client(op: OP) -> None:
    op = OP(op.clock, clients=untrusted())
    denied = answer_consent(op, consent_form(op.authorize(**WIKI)), "deny")
    assert query(denied) == {
        "error": "access_denied",
        "error_description": "The user declined.",
        "state": "st-9",
        "iss": ISSUER,
    }


def test_consent_post_from_another_site_or_with_anothers_mark_sends_no_code(op: OP) -> None:
    op = OP(op.clock, clients=untrusted())
    fields = consent_form(op.authorize(**WIKI))
    cross = answer_consent(op, fields, "allow", **{"sec-fetch-site": "cross-site"})
    assert cross.status == 403 and header(cross, "Location") is None and b"cross_site_request" in cross.body
    eve = Principal(8, "eve@acme.com", "Eve")
    assert "sso_consent" in consent_form(answer_consent(op, fields, "allow", user=eve))  # asked again
    forged = answer_consent(op, {**fields, "sso_consent": fields["sso_consent"][:-2] + "AA"}, "allow")
    assert consent_form(forged)
    changed = answer_consent(op, {**fields, "scope": "openid email groups"}, "allow")
    assert consent_form(changed)
    op.clock.advance(601)
    assert consent_form(answer_consent(op, fields, "allow"))


def test_prompt_none_on_an_untrusted_client_is_consent_required_and_prompt_consent_asks(op: OP) -> None:
    found = query(OP(op.clock, clients=untrusted()).authorize(**WIKI, prompt="none"))
    assert found["error"] == "consent_required"
    assert consent_form(op.authorize(**FLOW, prompt="consent"))


def test_the_consent_page_escapes_what_the_user_controls(op: OP) -> None:
    op = OP(op.clock, clients=untrusted())
    mallory = Principal(9, '"><script>alert(1)</script>@x.com', "<b>M</b>")
    page = op.authorize(user=mallory, **{**WIKI, "state": '"><img src=x onerror=alert(1)>'})
    text = page.body.decode()
    assert "<script>alert" not in text and "<img" not in text and "&lt;script&gt;" in text


def test_the_apps_own_consent_page(op: OP) -> None:
    from sso_middleware.pages import ConfirmView

    seen: list[ConfirmView] = []

    def page(view: ConfirmView) -> str:
        seen.append(view)
        return f"<main>{view.form()}</main>"

    op = OP(op.clock, clients=untrusted(), consent_page=page)
    fields = consent_form(op.authorize(**WIKI))
    assert seen[0].title == "Sign in to wiki" and seen[0].deny == "Cancel" and fields["sso_consent"]


# -- RP-initiated logout -------------------------------------------------------------------

GRAFANA_OUT = "https://grafana.acme.com/login"


class Ended:
    """An ``end_session`` hook that records whom it signed out and clears the app's cookie."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, request: Any) -> list[tuple[str, str]]:
        self.calls.append(request)
        return [("Set-Cookie", "session=; Max-Age=0; Path=/; HttpOnly")]


def logout_clients() -> list[Client]:
    return [
        Client("grafana", secret=SECRET, redirect_uris=[GRAFANA_CB], post_logout_redirect_uris=[GRAFANA_OUT]),
        Client("spa", redirect_uris=[SPA_CB], post_logout_redirect_uris=["https://spa.acme.com/bye"]),
    ]


@pytest.fixture
def out(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> tuple[OP, Ended]:
    monkeypatch.setattr("jwt.api_jwt.datetime", _Frozen(clock), raising=False)
    ended = Ended()
    return OP(clock, clients=logout_clients(), end_session=ended), ended


def id_token(op: OP) -> str:
    code = op.code(nonce="n")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": GRAFANA_CB}
    return str(body(op.token(form, basic()))["id_token"])


def logout(op: OP, user: object = ADA, method: str = "GET", headers: dict[str, str] | None = None,
           **params: str) -> Reply:
    if method == "POST":
        return op.call("/sso/oidc/logout", method="POST", body=urlencode(params).encode(), user=user,
                       headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})})
    return op.call("/sso/oidc/logout", query=urlencode(params), user=user, headers=headers)


def test_logout_is_advertised_only_with_an_end_session_hook(out: tuple[OP, Ended], clock: Clock) -> None:
    op, _ = out
    assert op.provider.metadata["end_session_endpoint"] == ISSUER + "/oidc/logout"
    plain = OP(clock)
    assert "end_session_endpoint" not in plain.provider.metadata and "/sso/oidc/logout" not in plain.routes


def test_logout_with_the_users_id_token_ends_the_session_and_returns_with_state(
    out: tuple[OP, Ended],
) -> None:
    op, ended = out
    hint = id_token(op)
    op.clock.advance(86400)  # an expired ID token is still a good hint
    reply = logout(op, id_token_hint=hint, post_logout_redirect_uri=GRAFANA_OUT, state="bye-1")
    assert reply.status == 303 and header(reply, "Location") == GRAFANA_OUT + "?state=bye-1"
    assert header(reply, "Set-Cookie") == "session=; Max-Age=0; Path=/; HttpOnly" and len(ended.calls) == 1


def test_logout_without_a_hint_asks_first_and_only_a_same_origin_post_ends_it(out: tuple[OP, Ended]) -> None:
    op, ended = out
    page = logout(op, client_id="grafana", post_logout_redirect_uri=GRAFANA_OUT, state="s")
    assert page.status == 200 and not ended.calls and b"Sign out" in page.body
    assert "form-action 'self' https://grafana.acme.com;" in (header(page, "Content-Security-Policy") or "")
    from helpers import Form

    form = Form()
    form.feed(page.body.decode())
    cross = logout(op, method="POST", headers={"sec-fetch-site": "cross-site"}, **form.fields)
    assert cross.status == 403 and not ended.calls
    assert b"<h1>Sign-out refused</h1>" in cross.body and b"cross_site_request" in cross.body  # its own words
    other = logout(op, user=Principal(8, "eve@acme.com"), method="POST",
                   headers={"sec-fetch-site": "same-origin"}, **form.fields)
    assert other.status == 200 and not ended.calls  # a mark made for Ada does not sign Eve out
    done = logout(op, method="POST", headers={"sec-fetch-site": "same-origin"}, **form.fields)
    assert header(done, "Location") == GRAFANA_OUT + "?state=s" and len(ended.calls) == 1


def test_a_hint_for_another_user_asks_first(out: tuple[OP, Ended]) -> None:
    op, ended = out
    reply = logout(op, user=Principal(8, "eve@acme.com"), id_token_hint=id_token(op))
    assert reply.status == 200 and b"Sign out" in reply.body and not ended.calls


def test_logout_when_nobody_is_signed_in_ends_nothing_and_says_signed_out(out: tuple[OP, Ended]) -> None:
    op, ended = out
    reply = logout(op, user=None)
    assert reply.status == 200 and b"You are signed out." in reply.body and not ended.calls


@pytest.mark.parametrize(
    "params, code",
    [
        ({"post_logout_redirect_uri": "https://evil.com/"}, "invalid_logout_request"),
        ({"client_id": "grafana", "post_logout_redirect_uri": "https://evil.com/"}, "redirect_uri_mismatch"),
        ({"client_id": "grafana", "post_logout_redirect_uri": GRAFANA_OUT + "/"}, "redirect_uri_mismatch"),
        ({"client_id": "spa", "post_logout_redirect_uri": GRAFANA_OUT}, "redirect_uri_mismatch"),
        ({"client_id": "nobody"}, "unknown_client"),
        ({"id_token_hint": "a.b.c"}, "invalid_logout_request"),
        ({"id_token_hint": "%%%"}, "invalid_logout_request"),
    ],
    ids=["no-client", "unregistered", "trailing-slash", "other-clients", "unknown-client", "forged", "junk"],
)
def test_logout_refusals_are_pages_never_redirects(
    out: tuple[OP, Ended], params: dict[str, str], code: str
) -> None:
    op, ended = out
    reply = op.call("/sso/oidc/logout", query=urlencode(params), user=ADA)
    assert reply.status == 400 and header(reply, "Location") is None and not ended.calls
    assert code.encode() in reply.body and b"evil" not in reply.body


def test_a_hint_must_be_for_the_named_client_and_unaltered(out: tuple[OP, Ended]) -> None:
    op, _ = out
    hint = id_token(op)
    assert logout(op, id_token_hint=hint, client_id="spa").status == 400
    head, payload, signature = hint.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "8"}).encode()).rstrip(b"=").decode()
    assert logout(op, id_token_hint=f"{head}.{forged}.{signature}").status == 400
    form = {"grant_type": "authorization_code", "code": op.code(), "redirect_uri": GRAFANA_CB}
    access = body(op.token(form, basic()))["access_token"]
    assert logout(op, id_token_hint=access).status == 400  # an access token is no ID token


def test_consent_logout_and_webfinger_log_each_refusal_once_and_no_token(
    out: tuple[OP, Ended], caplog: pytest.LogCaptureFixture
) -> None:
    op, _ = out
    caplog.set_level(logging.DEBUG)
    hint = id_token(op)
    caplog.clear()
    logout(op, id_token_hint=hint, post_logout_redirect_uri=GRAFANA_OUT, state="bye-secret-state")
    logout(op, id_token_hint=hint, client_id="spa")  # refused: another client
    page = logout(op, client_id="grafana")
    from helpers import Form

    form = Form()
    form.feed(page.body.decode())
    logout(op, method="POST", headers={"sec-fetch-site": "cross-site"}, **form.fields)  # refused
    wiki = OP(op.clock, clients=untrusted(), webfinger_domains=["acme.com"])
    fields = consent_form(wiki.authorize(**WIKI))
    answer_consent(wiki, fields, "deny")
    wiki.call("/.well-known/webfinger", query="resource=acct:ada@evil.com")
    text = "\n".join(r.getMessage() for r in caplog.records)
    marks = (form.fields["sso_logout"], fields["sso_consent"])
    for secret in (hint, *marks, SECRET, "ada@acme.com", "ada@evil.com", "bye-secret-state"):
        assert secret not in text
    refusals = [line for line in text.splitlines() if line.startswith("refused request")]
    assert refusals == [
        "refused request service=oidc endpoint=end_session code=invalid_logout_request",
        "refused request service=oidc endpoint=end_session code=cross_site_request client=grafana",
        "refused request service=oidc endpoint=authorize code=access_denied client=wiki",
        "refused request service=oidc endpoint=webfinger code=unknown_resource",
    ]


async def _too_late() -> list[tuple[str, str]]:
    return []


@pytest.mark.parametrize(
    "answer",
    [[("Location", "https://evil.com")], "Set-Cookie: a=b", [("Set-Cookie", "a\r\nb")], _too_late],
    ids=["location", "text", "crlf", "async-on-wsgi"],
)
def test_an_end_session_hook_may_add_only_cookie_headers(out: tuple[OP, Ended], answer: Any) -> None:
    op, _ = out
    op.provider._context = replace(
        op.provider._context, end_session=lambda request: answer() if callable(answer) else answer
    )
    op.routes = dict(op.provider.routes("/sso", login_url="/login", clock=op.clock))
    reply = logout(op, id_token_hint=id_token(op))
    assert reply.status == 500 and header(reply, "Location") is None and b"evil" not in reply.body


class _Broken(frozenset[str]):
    """A webfinger domain set that fails when asked (a bug on our side, as far as the endpoint knows)."""

    def __contains__(self, item: object) -> bool:
        raise RuntimeError("broken")


@pytest.mark.parametrize(("path", "title", "words"), [
    pytest.param("/sso/oidc/authorize", "Sign-in failed", "Sign-in failed on our side", id="authorize"),
    pytest.param("/sso/oidc/logout", "Sign-out failed", "Sign-out failed on our side, so you may still be "
                 "signed in", id="logout"),
    pytest.param("/.well-known/webfinger", "Lookup failed", "Looking up this account's sign-in provider "
                 "failed on our side", id="webfinger"),
])
def test_a_failure_on_our_side_is_told_in_the_endpoints_own_words(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, path: str, title: str, words: str
) -> None:
    monkeypatch.setattr("jwt.api_jwt.datetime", _Frozen(clock), raising=False)
    op = OP(clock, clients=logout_clients(), end_session=Ended(), webfinger_domains=["acme.com"])
    hint = id_token(op)

    def extra_claims(user: Principal) -> dict[str, Any]:
        raise RuntimeError("the app's database is down")

    def end_session(request: Any) -> None:
        raise RuntimeError("the app's session store is down")

    broken = Client("grafana", secret=SECRET, redirect_uris=[GRAFANA_CB], extra_claims=extra_claims,
                    post_logout_redirect_uris=[GRAFANA_OUT])

    op.provider._context = replace(op.provider._context, clients={"grafana": broken}, end_session=end_session,
                                   webfinger=_Broken({"acme.com"}))
    op.routes = dict(op.provider.routes("/sso", login_url="/login", clock=op.clock))
    query = {"/sso/oidc/authorize": urlencode(FLOW), "/sso/oidc/logout": urlencode({"id_token_hint": hint}),
             "/.well-known/webfinger": "resource=acct:ada@acme.com"}[path]
    page = op.call(path, query=query, user=ADA, headers={"accept": "text/html"})
    assert page.status == 500 and f"<h1>{title}</h1>" in page.body.decode()
    assert words in page.body.decode().replace("&#x27;", "'")
    answer = op.call(path, query=query, user=ADA, headers={"accept": "application/json"})
    assert answer.status == 500 and body(answer)["error"] == "server_error"  # the code stays the same
    assert body(answer)["message"].startswith(words)


# -- WebFinger -----------------------------------------------------------------------------


def test_an_async_end_session_hook_is_refused_on_wsgi_when_built(skin: Skin) -> None:
    async def end_session(request: Any) -> None:
        return None

    def build() -> Any:
        return skin.issuer(services=[], openid=local_provider(end_session=end_session), login_url="/login")

    if skin.name == "wsgi":
        with pytest.raises(ConfigurationError, match="cannot await an async end_session hook"):
            build()
    else:
        build()


def test_webfinger_names_the_issuer_for_the_configured_domains(clock: Clock) -> None:
    op = OP(clock, webfinger_domains=["acme.com"])
    rel = "http://openid.net/specs/connect/1.0/issuer"
    reply = op.call("/.well-known/webfinger", query=urlencode({"resource": "acct:ada@ACME.com", "rel": rel}))
    assert reply.status == 200 and header(reply, "Content-Type") == "application/jrd+json"
    assert header(reply, "Access-Control-Allow-Origin") == "*"
    assert body(reply) == {"subject": "acct:ada@ACME.com", "links": [{"rel": rel, "href": ISSUER}]}
    nobody = op.call("/.well-known/webfinger", query="resource=acct:nobody-at-all@acme.com")
    assert body(nobody)["links"][0]["href"] == ISSUER  # the same answer: no way to learn who exists
    assert body(op.call("/.well-known/webfinger", query="resource=acct:a@acme.com&rel=other"))["links"] == []
    assert op.call("/.well-known/webfinger", query="resource=acct:ada@evil.com").status == 404
    assert op.call("/.well-known/webfinger", query="resource=https://acme.com/").status == 404
    assert op.call("/.well-known/webfinger", query="").status == 400
    assert op.call("/.well-known/webfinger", query="resource=a&resource=b").status == 400
    assert "/.well-known/webfinger" not in OP(clock).routes


@pytest.mark.parametrize("domains", [["https://acme.com"], ["ada@acme.com"], ["acme.com."], [""], [7]])
def test_webfinger_domains_are_checked(domains: list[Any]) -> None:
    with pytest.raises(ConfigurationError, match="webfinger_domains"):
        provider(webfinger_domains=domains)


def test_post_logout_redirect_uris_are_checked() -> None:
    for uris, words in ((["http://grafana.acme.com/"], "not https"), ("https://g.acme.com/", "is a list")):
        with pytest.raises(ConfigurationError, match=words):
            Client("g", secret=SECRET, redirect_uris=[GRAFANA_CB], post_logout_redirect_uris=uris)


# -- the issuer's openid= hook, on both skins -----------------------------------------

from helpers import Skin  # noqa: E402

LOCAL_CB = "http://localhost/callback"


def local_provider(issuer: str = "http://localhost/sso", **options: Any) -> OpenIDProvider:
    options.setdefault(
        "clients",
        [
            Client("grafana", secret=SECRET, redirect_uris=[GRAFANA_CB, LOCAL_CB]),
            Client("spa", redirect_uris=[LOCAL_CB]),
        ],
    )
    return OpenIDProvider(issuer=issuer, key=[RSA, EC], **options)


def test_issuer_answers_the_provider_on_both_skins(skin: Skin) -> None:
    client = skin.issuer(services=[], openid=local_provider(), login_url="/login")
    doc = client.get("/sso/.well-known/openid-configuration").json()
    assert (
        doc["issuer"] == "http://localhost/sso"
        and doc["jwks_uri"] == "http://localhost/sso/.well-known/jwks.json"
    )
    jwks = client.get("/sso/.well-known/jwks.json").json()
    assert {RSA.kid, EC.kid} == {k["kid"] for k in jwks["keys"]}
    assert client.get("/elsewhere").json()["path"] == "/elsewhere"  # the rest passes through
    query_string = urlencode(
        {
            "response_type": "code",
            "client_id": "grafana",
            "redirect_uri": GRAFANA_CB,
            "scope": "openid email",
            "state": "s1",
            "nonce": "n1",
        }
    )
    anonymous = client.get("/sso/oidc/authorize?" + query_string)
    assert anonymous.status == 303 and anonymous.location.startswith(
        "/login?next=%2Fsso%2Foidc%2Fauthorize%3F"
    )
    signed_in = client.get("/sso/oidc/authorize?" + query_string, headers={"X-User": "ada"})
    found = parse_qs(urlsplit(signed_in.location).query)
    assert signed_in.location.startswith(GRAFANA_CB + "?") and found["state"] == ["s1"]
    form = {"grant_type": "authorization_code", "code": found["code"][0], "redirect_uri": GRAFANA_CB}
    token = client.request("POST", "/sso/oidc/token", data=form, headers=basic())
    assert token.status == 200 and token.headers["Cache-Control"] == "no-store"
    answer = token.json()
    claims = jwt.decode(
        answer["id_token"],
        jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == RSA.kid)).key,
        algorithms=["RS256"],
        audience="grafana",
        issuer="http://localhost/sso",
    )
    assert (claims["sub"], claims["nonce"], claims["email"]) == ("7", "n1", "ada@example.com")
    info = client.get("/sso/oidc/userinfo", headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert info.json() == {"sub": "7", "email": "ada@example.com", "email_verified": False}
    again = client.request("POST", "/sso/oidc/token", data=form, headers=basic())
    assert again.status == 400 and again.json()["error"] == "invalid_grant"
    gone = client.get("/sso/oidc/userinfo", headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert gone.status == 401 and gone.headers["WWW-Authenticate"].startswith("Bearer ")
    bad = client.get(
        "/sso/oidc/authorize?"
        + urlencode(
            {
                "client_id": "grafana",
                "redirect_uri": "https://evil.com/cb",
                "response_type": "code",
                "scope": "openid",
            }
        ),
        headers={"X-User": "ada"},
    )
    assert bad.status == 400 and "Location" not in bad.headers and "evil" not in bad.text
    assert client.request("PUT", "/sso/oidc/token").status == 405


def test_issuer_with_services_and_the_provider(skin: Skin) -> None:
    from sso_middleware import services

    frill = services.frill(key="frill-test-key-0123456789-abcdefghijklmnop", hosts=["feedback.acme.com"])
    client = skin.issuer(services=[frill], openid=local_provider())
    assert client.get("/sso/frill", headers={"X-User": "ada"}).status == 303
    assert client.get("/sso/.well-known/openid-configuration").status == 200
    with pytest.raises(ConfigurationError, match="prefix"):
        skin.issuer(services=[frill], openid=local_provider(), prefix="/auth")


def test_consent_logout_and_webfinger_on_both_skins(skin: Skin) -> None:
    """The consent page's POST, RP-initiated logout through the app's hook (given the framework's
    own request; async on ASGI) and WebFinger at the root, through the real middleware."""
    from helpers import Form

    seen: list[Any] = []

    def ended(request: Any, form: Any = None) -> list[tuple[str, str]]:
        fields = sorted(request.form if form is None else form)  # the sign-out form, read again
        seen.append((type(request).__module__.split(".")[0], request.cookies.get("app_session"), fields))
        return [("Set-Cookie", "app_session=; Max-Age=0; Path=/")]

    async def aended(request: Any) -> list[tuple[str, str]]:
        return ended(request, parse_qs((await request.body()).decode()))  # (form() needs python-multipart)

    provider = local_provider(
        clients=[Client("wiki", secret=SECRET, redirect_uris=[LOCAL_CB], trusted=False,
                        post_logout_redirect_uris=["http://localhost/bye"])],
        end_session=ended if skin.name == "wsgi" else aended,
        webfinger_domains=["example.com"],
    )
    client = skin.issuer(services=[], openid=provider, login_url="/login")
    ada = {"X-User": "ada"}
    params = {"response_type": "code", "client_id": "wiki", "redirect_uri": LOCAL_CB, "scope": "openid",
              "state": "s"}
    page = client.get("/sso/oidc/authorize?" + urlencode(params), headers=ada)
    assert page.status == 200
    assert "form-action 'self' http://localhost;" in page.headers["Content-Security-Policy"]
    form = Form()
    form.feed(page.text)
    same = {**ada, "Sec-Fetch-Site": "same-origin"}
    allowed = client.request("POST", form.action, data={**form.fields, "decision": "allow"}, headers=same)
    assert allowed.status == 303 and parse_qs(urlsplit(allowed.location).query)["code"]
    denied = client.request("POST", form.action, data={**form.fields, "decision": "deny"}, headers=same)
    assert parse_qs(urlsplit(denied.location).query)["error"] == ["access_denied"]
    cross = client.request("POST", form.action, data={**form.fields, "decision": "allow"},
                           headers={**ada, "Sec-Fetch-Site": "cross-site"})
    assert cross.status == 403 and "Location" not in cross.headers

    doc = client.get("/sso/.well-known/openid-configuration").json()
    assert doc["end_session_endpoint"] == "http://localhost/sso/oidc/logout"
    client.set_cookie("app_session", "abc")
    ask = client.get("/sso/oidc/logout?client_id=wiki&post_logout_redirect_uri=http://localhost/bye&state=z",
                     headers=ada)
    assert ask.status == 200 and not seen
    form = Form()
    form.feed(ask.text)
    done = client.request("POST", form.action, data=form.fields, headers=same)
    assert done.status == 303 and done.location == "http://localhost/bye?state=z"
    assert done.headers["Set-Cookie"].startswith("app_session=;")
    assert seen == [("werkzeug" if skin.name == "wsgi" else "starlette", "abc", sorted(form.fields))]

    finger = client.get("/.well-known/webfinger?resource=acct:ada@example.com")
    assert finger.status == 200 and finger.json()["links"][0]["href"] == "http://localhost/sso"
    assert client.get("/.well-known/webfinger?resource=acct:ada@evil.com").status == 404


def test_both_skins_answer_the_provider_identically() -> None:
    """Parity, for the provider: one corpus (discovery, authorization with its login, consent and
    refusals, token and userinfo refusals, logout's page, redirect and refusals, WebFinger) through
    both skins, byte-identical answers (an issued code, random by design, masked)."""
    import re

    from helpers import USERS, call_asgi, call_wsgi

    from sso_middleware import asgi, wsgi

    def user(request: Any) -> Any:
        found = USERS.get(request.headers.get("x-user", ""))
        stamp = request.headers.get("x-auth-time")
        return found if found is None or stamp is None else {**found, "auth_time": int(stamp)}

    def build(module: Any) -> Any:
        provider = OpenIDProvider(
            issuer="http://localhost/sso", key=[RSA, EC], end_session=lambda request: None,
            webfinger_domains=["example.com"],
            clients=[Client("grafana", secret=SECRET, redirect_uris=[LOCAL_CB],
                            post_logout_redirect_uris=["http://localhost/bye"]),
                     Client("wiki", secret=SECRET, redirect_uris=[LOCAL_CB], trusted=False)],
        )
        inner = wsgi_app if module is wsgi else asgi_app
        return module.IssuerMiddleware(inner, services=[], user=user, login_url="/login", openid=provider,
                                       clock=Clock(1_800_000_000.0))

    def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        await send(start)
        await send({"type": "http.response.body", "body": b"app"})

    flow = {"response_type": "code", "redirect_uri": LOCAL_CB, "scope": "openid email", "state": "s"}
    extras: list[dict[str, str]] = [{}, {"prompt": "login"}, {"prompt": "none"}, {"max_age": "60"},
                                    {"nonce": "<"}]
    queries = [urlencode({**flow, "client_id": c, **extra})
               for c in ("grafana", "wiki", "nobody") for extra in extras]
    people = [[], [("X-User", "ada")], [("X-User", "ada"), ("X-Auth-Time", "1799990000")],
              [("X-User", "ada"), ("Accept", "application/json")]]
    requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
    for query, headers in itertools.product(queries, people):
        requests.append(("GET", "/sso/oidc/authorize?" + query, headers, b""))
    logout = ["", "client_id=grafana&post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fbye&state=z",
              "post_logout_redirect_uri=https%3A%2F%2Fevil.com", "id_token_hint=a.b.c", "client_id=nobody"]
    for query, headers in itertools.product(logout, people[:2]):
        requests.append(("GET", "/sso/oidc/logout?" + query, headers, b""))
    paths = ["/.well-known/webfinger?resource=acct:ada@example.com", "/.well-known/webfinger?resource=x",
             "/.well-known/webfinger", "/sso/.well-known/openid-configuration", "/sso/.well-known/jwks.json",
             "/sso/oidc/userinfo", "/elsewhere"]
    for path in paths:
        for method in ("GET", "HEAD", "POST"):
            requests.append((method, path, people[1], b""))
    for body in (b"", b"grant_type=authorization_code&code=x", b"a=1&a=2"):
        requests.append(("POST", "/sso/oidc/token", [], body))
        requests.append(("POST", "/sso/oidc/authorize", people[1], body))
    answers = {name: [call(build(module), request) for request in requests]
               for name, module, call in (("wsgi", wsgi, call_wsgi), ("asgi", asgi, call_asgi))}
    code = re.compile(r"code=[A-Za-z0-9_-]{40,}")
    def masked(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted((n.lower(), code.sub("code=*", v)) for n, v in headers)

    for request, w, a in zip(requests, answers["wsgi"], answers["asgi"], strict=True):
        assert (w[0], masked(w[1]), w[2]) == (a[0], masked(a[1]), a[2]), request
    reached = {(status, b"sso_consent" in body) for status, _, body in answers["wsgi"]}
    assert {(200, True), (303, False), (400, False), (404, False), (405, False)} <= reached


# -- independent relying parties on real servers ----------------------------------------


class _Late:
    """A WSGI/ASGI app built once the server's port (and so the issuer URL) is known."""

    def __init__(self, skin: str) -> None:
        self.skin = skin
        self.app: Any = None

    def __call__(self, *args: Any) -> Any:
        return self.app(*args)


def _late(skin_name: str) -> Any:
    late = _Late(skin_name)
    if skin_name == "wsgi":
        return late

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await late.app(scope, receive, send)

    asgi.late = late  # type: ignore[attr-defined]
    return asgi


def _serve_provider(skin: Skin, **options: Any) -> Any:
    from servers import serve

    app = _late(skin.name)
    holder = app if skin.name == "wsgi" else app.late
    context = serve(skin.name, app)
    base = context.__enter__()
    provider = local_provider(issuer=base + "/sso", **options)
    holder.app = skin.module.IssuerMiddleware(
        skin.echo, services=[], openid=provider, user=_user, login_url="/login"
    )
    return context, base, provider


def _user(request: Any) -> dict[str, Any] | None:
    from helpers import USERS

    found = USERS.get(request.headers.get("x-user", ""))
    if found is None:
        return None
    signed_in = request.headers.get("x-auth-time")  # when the app last checked the password
    when = {} if signed_in is None else {"auth_time": int(signed_in)}
    return {**found, "groups": ["admins"], "preferred_username": "ada", **when}


def _browser(url: str) -> str:
    """The user's browser, signed in at the app: follows the app's redirect to the client's callback."""
    import requests

    reply = requests.get(url, headers={"X-User": "ada"}, allow_redirects=False, timeout=10)
    assert reply.status_code == 303, reply.text
    return str(reply.headers["Location"])


@pytest.mark.slow
@pytest.mark.network
def test_authlib_relying_party_on_a_real_server(skin: Skin) -> None:
    """Authlib's own OAuth 2.0 client (requests) with PKCE S256, its OpenID ID-token validation
    (discovery, JWKS by kid, iss, aud, nonce, at_hash) and userinfo, against a real server."""
    from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
    from authlib.integrations.base_client.sync_openid import OpenIDMixin
    from authlib.integrations.requests_client import OAuth2Session

    class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
        client_cls = OAuth2Session

    context, base, _ = _serve_provider(skin)
    try:
        for client_id, secret, auth in (
            ("grafana", SECRET, "client_secret_basic"),
            ("grafana", SECRET, "client_secret_post"),
            ("spa", None, "none"),
        ):
            rp = RelyingParty(
                None,
                client_id=client_id,
                client_secret=secret,
                server_metadata_url=base + "/sso/.well-known/openid-configuration",
                client_kwargs={
                    "scope": "openid email profile groups",
                    "code_challenge_method": "S256",
                    "token_endpoint_auth_method": auth,
                },
            )
            started = rp.create_authorization_url(LOCAL_CB)
            callback = parse_qs(urlsplit(_browser(started["url"])).query)
            assert callback["state"] == [started["state"]] and callback["iss"] == [base + "/sso"]
            token = rp.fetch_access_token(
                LOCAL_CB, code=callback["code"][0], code_verifier=started["code_verifier"]
            )
            claims = rp.parse_id_token(token, nonce=started["nonce"])
            assert (
                claims["sub"] == "7" and claims["aud"] == client_id and claims["email"] == "ada@example.com"
            )
            assert claims["groups"] == ["admins"] and claims["preferred_username"] == "ada"
            info = rp.userinfo(token=token)
            assert info["sub"] == "7" and info["name"] == "Ada Lovelace"
            # the same code again: refused
            with pytest.raises(Exception, match="invalid_grant"):
                rp.fetch_access_token(
                    LOCAL_CB, code=callback["code"][0], code_verifier=started["code_verifier"]
                )
    finally:
        context.__exit__(None, None, None)


@pytest.mark.slow
@pytest.mark.network
def test_wrong_pkce_verifier_on_a_real_server(skin: Skin) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    context, base, _ = _serve_provider(skin)
    try:
        session = OAuth2Session(
            "spa",
            scope="openid",
            redirect_uri=LOCAL_CB,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )
        verifier = secrets.token_urlsafe(48)
        url, _ = session.create_authorization_url(base + "/sso/oidc/authorize", code_verifier=verifier)
        code = parse_qs(urlsplit(_browser(url)).query)["code"][0]
        with pytest.raises(Exception, match="invalid_grant"):
            session.fetch_token(base + "/sso/oidc/token", code=code, code_verifier=secrets.token_urlsafe(48))
        token = session.fetch_token(base + "/sso/oidc/token", code=code, code_verifier=verifier)
        assert token["token_type"] == "Bearer"
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def node_oauth4webapi(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A directory where ``node oidc_rp.mjs`` finds ``oauth4webapi`` (in ``$SSO_NODE_MODULES``, as
    tests/test_interop.py finds ``jose``; skipped without it unless ``SSO_REQUIRE_NODE`` is set)."""
    import os
    import shutil
    from pathlib import Path

    modules = os.environ.get("SSO_NODE_MODULES")
    if not (shutil.which("node") and modules and (Path(modules) / "oauth4webapi" / "package.json").exists()):
        if os.environ.get("SSO_REQUIRE_NODE"):
            pytest.fail("node and oauth4webapi (npm) are not installed; set SSO_NODE_MODULES")
        pytest.skip("node's oauth4webapi is not installed (set SSO_NODE_MODULES to its node_modules)")
    here = tmp_path_factory.mktemp("oidc_rp")
    (here / "node_modules").symlink_to(Path(modules).resolve())
    shutil.copy(Path(__file__).parent / "interop" / "oidc_rp.mjs", here / "oidc_rp.mjs")
    return here


def _node_rp(where: Any, issuer: str, client_id: str, secret: str | None, user: str | None,
             auth_time: int | None = None, max_age: int | None = None) -> tuple[int, Any]:
    import subprocess

    browser = {"X-User": user} if user else {}
    if auth_time is not None:
        browser["X-Auth-Time"] = str(auth_time)
    argv = ["node", str(where / "oidc_rp.mjs"), issuer, client_id, secret or "-", LOCAL_CB]
    argv += [json.dumps(browser), *([] if max_age is None else [str(max_age)])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=where, check=False)
    return done.returncode, json.loads(done.stdout or "null")


@pytest.mark.slow
def test_oauth4webapi_relying_party_on_a_real_server(skin: Skin, node_oauth4webapi: Any) -> None:
    """A strict node client (panva/oauth4webapi): discovery, the code flow with PKCE S256, the callback's
    state and iss, the ID token's claims and its signature against the JWKS, userinfo; a confidential
    client (client_secret_basic) and a public one (none), on werkzeug and uvicorn."""
    context, base, _ = _serve_provider(skin)
    try:
        for client_id, secret in (("grafana", SECRET), ("spa", None)):
            code, answer = _node_rp(node_oauth4webapi, base + "/sso", client_id, secret, "ada")
            assert code == 0, answer
            claims, info = answer["claims"], answer["userinfo"]
            assert (claims["iss"], claims["aud"], claims["sub"], answer["alg"]) == (
                base + "/sso", client_id, "7", "RS256")
            assert claims["email"] == "ada@example.com" and claims["groups"] == ["admins"]
            assert info["sub"] == "7" and info["preferred_username"] == "ada"
            assert info["name"] == "Ada Lovelace"
        code, answer = _node_rp(node_oauth4webapi, base + "/sso", "grafana", "not-the-secret-012345", "ada")
        assert code == 1 and "WWW_AUTHENTICATE_CHALLENGE" in answer["error"]  # 401 invalid_client, Basic
        code, answer = _node_rp(node_oauth4webapi, base + "/sso", "grafana", SECRET, None)  # nobody signed in
        assert code == 1 and "/login?next=" in answer["error"]
        import time

        recently = int(time.time()) - 60  # max_age: the client checks auth_time itself
        code, answer = _node_rp(node_oauth4webapi, base + "/sso", "grafana", SECRET, "ada", recently, 600)
        assert code == 0 and answer["claims"]["auth_time"] == recently, answer
        old = recently - 3600
        code, answer = _node_rp(node_oauth4webapi, base + "/sso", "grafana", SECRET, "ada", old, 600)
        assert code == 1 and "/login?next=" in answer["error"] and "prompt=login" in answer["error"]
    finally:
        context.__exit__(None, None, None)


_REDEEM = """
import json, sys, time
from urllib.parse import urlencode
import redis
from sso_middleware.keys import Key
from sso_middleware.messages import Request
from sso_middleware.oidc import Client, OpenIDProvider
from sso_middleware.redis_store import RedisReplayStore

pem, port, secret, codes, start = sys.argv[1:6]
provider = OpenIDProvider(issuer="https://app.acme.com/sso", key=Key(open(pem).read()),
                          clients=[Client("grafana", secret=secret, redirect_uris=[{cb!r}])],
                          replay_store=RedisReplayStore(redis.Redis(port=int(port))))
token = provider.routes("/sso")["/sso/oidc/token"]
codes = json.load(open(codes))
while time.time() < float(start):
    time.sleep(0.001)
answers = []
for code in codes:
    body = urlencode({{"grant_type": "authorization_code", "code": code, "redirect_uri": {cb!r},
                      "client_id": "grafana", "client_secret": secret}}).encode()
    form = {{"content-type": "application/x-www-form-urlencoded"}}
    request = Request("POST", "/sso/oidc/token", headers=form, body=body)
    answers.append(token.run(request).status)
print(json.dumps(answers))
"""


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.network
def test_codes_are_one_time_across_two_processes_sharing_redis(tmp_path: Any) -> None:
    import subprocess
    import sys
    import time

    import redis
    from redis_servers import redis_server

    from sso_middleware.redis_store import RedisReplayStore

    pem = tmp_path / "key.pem"
    pem.write_bytes(RSA.private_pem())
    with redis_server(tmp_path / "redis") as server:
        store = RedisReplayStore(redis.Redis(port=server.port))
        op = OpenIDProvider(
            issuer=ISSUER,
            key=RSA,
            replay_store=store,
            clients=[Client("grafana", secret=SECRET, redirect_uris=[GRAFANA_CB])],
        )
        authorize = op.routes("/sso")["/sso/oidc/authorize"]
        codes = []
        for i in range(40):
            query_string = urlencode(
                {
                    "response_type": "code",
                    "client_id": "grafana",
                    "redirect_uri": GRAFANA_CB,
                    "scope": "openid",
                    "state": str(i),
                }
            )
            reply = authorize.run(Request("GET", "/sso/oidc/authorize", query=query_string), ADA)
            codes.append(query(reply)["code"])
        (tmp_path / "codes.json").write_text(json.dumps(codes))
        script = tmp_path / "redeem.py"
        script.write_text(_REDEEM.format(cb=GRAFANA_CB))
        start = str(time.time() + 3)
        argv = [
            sys.executable,
            str(script),
            str(pem),
            str(server.port),
            SECRET,
            str(tmp_path / "codes.json"),
            start,
        ]
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        answers = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    for i in range(len(codes)):
        assert sorted(a[i] for a in answers) == [200, 400], i


def test_the_grafana_recipe_signs_ada_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/recipes.md's Grafana block, as written, through Grafana's side of the flow."""
    import asyncio  # noqa: F401  (the ASGI client runs its own loop)

    from helpers import BLOCKS, ENV, ASGIClient

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    found: dict[str, Any] = {}
    exec(compile(BLOCKS["grafana_oidc.py"], "grafana_oidc.py", "exec"), found)
    from sso_middleware.asgi import SSOUser

    ada = SSOUser(Principal(7, "ada@acme.com", "Ada", {"groups": ["admins"], "preferred_username": "ada"}))

    async def signed_in(scope: Any, receive: Any, send: Any) -> None:  # the app's authentication middleware
        scope["user"] = ada
        await found["app"](scope, receive, send)

    client = ASGIClient(signed_in)
    cb = "https://grafana.acme.com/login/generic_oauth"
    verifier, challenge = pkce()
    location = client.get(
        "/sso/oidc/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "grafana",
                "redirect_uri": cb,
                "scope": "openid email profile groups",
                "state": "g",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    ).location
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": cb, "code_verifier": verifier}
    answer = client.request(
        "POST", "/sso/oidc/token", data=form, headers=basic("grafana", ENV["GRAFANA_OIDC_SECRET"])
    ).json()
    info = client.get(
        "/sso/oidc/userinfo", headers={"Authorization": "Bearer " + answer["access_token"]}
    ).json()
    assert (
        info["groups"] == ["admins"]
        and info["preferred_username"] == "ada"
        and info["email"] == "ada@acme.com"
    )


def _recipe(name: str, monkeypatch: pytest.MonkeyPatch, user: Principal) -> tuple[Any, Any]:
    """docs/recipes.md's block ``name``, as written, behind an app that signs ``user`` in."""
    from helpers import BLOCKS, ENV, ASGIClient

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    found: dict[str, Any] = {}
    exec(compile(BLOCKS[name], name, "exec"), found)
    from sso_middleware.asgi import SSOUser

    async def signed_in(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/.well-known/webfinger" not in scope["path"]:
            scope["user"] = SSOUser(user)
        await found["app"](scope, receive, send)

    return ASGIClient(signed_in), found


def _code_flow(client: Any, client_id: str, cb: str, secret: str, scope: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": cb, "scope": scope,
              "state": "r", "code_challenge": challenge, "code_challenge_method": "S256"}
    location = client.get("/sso/oidc/authorize?" + urlencode(params)).location
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": cb, "code_verifier": verifier}
    answer = client.request("POST", "/sso/oidc/token", data=form, headers=basic(client_id, secret)).json()
    info = client.get("/sso/oidc/userinfo", headers={"Authorization": "Bearer " + answer["access_token"]})
    return dict(info.json())


def test_the_mintlify_recipe_answers_mintlifys_user_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mintlify's Info API reads ``{groups, content, expiresAt}``: the userinfo endpoint answers it."""
    import time

    from helpers import ENV

    ada = Principal(7, "ada@acme.com", "Ada Lovelace", {"groups": ["admins"], "plan": "enterprise"})
    client, _ = _recipe("mintlify_oidc.py", monkeypatch, ada)
    info = _code_flow(client, "mintlify", "https://docs.acme.com/api/auth/callback",
                      ENV["MINTLIFY_OIDC_SECRET"], "openid email profile groups")
    assert info["groups"] == ["admins"] and info["content"] == {"firstName": "Ada", "plan": "enterprise"}
    assert isinstance(info["expiresAt"], int) and info["expiresAt"] > time.time() + 6 * 86400


def test_the_tailscale_recipe_is_found_through_webfinger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tailscale's path: WebFinger names the issuer, discovery repeats it exactly, the code flow
    with ``openid profile email`` gives ``email`` and ``name``."""
    from helpers import ENV

    ada = Principal(7, "ada@acme.com", "Ada Lovelace")
    client, _ = _recipe("tailscale_oidc.py", monkeypatch, ada)
    rel = "http://openid.net/specs/connect/1.0/issuer"
    finger = client.get("/.well-known/webfinger?" + urlencode({"resource": "acct:ada@acme.com", "rel": rel}))
    issuer = finger.json()["links"][0]["href"]
    assert finger.status == 200 and issuer == "https://acme.com/sso"
    assert client.get("/sso/.well-known/openid-configuration").json()["issuer"] == issuer
    info = _code_flow(client, "tailscale", "https://login.tailscale.com/a/oauth_response",
                      ENV["TAILSCALE_OIDC_SECRET"], "openid profile email")
    assert (info["email"], info["name"]) == ("ada@acme.com", "Ada Lovelace")

