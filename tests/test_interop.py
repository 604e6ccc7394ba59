"""Our key-pair tokens, checked by stacks we did not write, through the JWKS our issuer serves on a
real server: joserfc (Python) and node's ``jose`` (panva/jose); and their tokens checked by us.

Node's ``jose`` is looked up in ``$SSO_NODE_MODULES`` (CI installs it there with npm); without it
those tests skip, unless ``SSO_REQUIRE_NODE`` is set (CI sets it), which makes them fail.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Clock, Skin
from servers import serve

from sso_middleware import ConfigurationError, Principal, services
from sso_middleware.keys import Key, thumbprint
from sso_middleware.placements import SignedPayload, UserHash
from sso_middleware.service import Destination, Service, TokenRules

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
              "Ed25519", "Ed448"]  # the last two: RFC 9864's fully specified names
KEYS = {alg: Key.generate(alg) for alg in ALGORITHMS}
USER = {"id": 7, "email": "ada@example.com", "name": "Ada"}


def service(alg: str) -> Service:
    return Service(name=f"app-{alg.lower()}", key=KEYS[alg],
                   token=TokenRules(claims=lambda u: {"sub": str(u.id), "email": u.email}, algorithm=alg),
                   destination=Destination("https://b.acme.com/sso"))


@pytest.fixture(params=["wsgi", "asgi"])
def issuer_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Our issuer, signing with every algorithm, on a real server (werkzeug or uvicorn)."""
    skin = Skin(request.param)
    app = skin.module.IssuerMiddleware(skin.echo, services=[service(a) for a in ALGORITHMS],
                                       user=lambda r: USER)
    with serve(skin.name, app) as url:
        yield url


def minted(base: str, alg: str) -> str:
    location = httpx.get(f"{base}/sso/app-{alg.lower()}").headers["location"]
    return str(location.split("token=", 1)[1])


@pytest.mark.network
def test_joserfc_verifies_every_algorithm_through_our_jwks(issuer_url: str) -> None:
    from joserfc import jwk, jwt

    document = httpx.get(f"{issuer_url}/sso/.well-known/jwks.json").json()
    keys = jwk.KeySet.import_key_set(document)
    for alg in ALGORITHMS:
        token = minted(issuer_url, alg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc notes that RFC 9864 prefers "Ed25519" to "EdDSA"
            decoded = jwt.decode(token, keys, algorithms=[alg])
        jwt.JWTClaimsRegistry(exp={"essential": True}, sub={"essential": True, "value": "7"}).validate(
            decoded.claims)
        assert decoded.header["kid"] == KEYS[alg].kid and decoded.claims["email"] == "ada@example.com"


@pytest.mark.network
def test_joserfc_refuses_a_token_of_ours_with_another_payload(issuer_url: str) -> None:
    from joserfc import jwk, jwt
    from joserfc.errors import BadSignatureError

    keys = jwk.KeySet.import_key_set(httpx.get(f"{issuer_url}/sso/.well-known/jwks.json").json())
    head, _, sig = minted(issuer_url, "ES256").split(".")
    other = minted(issuer_url, "ES256").split(".")[1][:-2] + "AA"
    with pytest.raises((BadSignatureError, ValueError)):
        jwt.decode(f"{head}.{other}.{sig}", keys, algorithms=["ES256"])


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
def test_we_verify_what_joserfc_signs(skin: Skin, clock: Clock, alg: str) -> None:
    from joserfc import jwk, jwt

    kinds = {"RS": ("RSA", 2048), "PS": ("RSA", 2048), "ES": ("EC", "P-256"), "Ed": ("OKP", "Ed25519")}
    kty, options = kinds[alg[:2]]
    private = jwk.generate_key(kty, options)  # type: ignore[call-overload]
    public = private.as_dict(private=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode({"alg": alg, "kid": "jr-1"}, {"sub": "ada", "iat": int(clock.now),
                                                          "exp": int(clock.now) + 60}, private,
                           algorithms=[alg])
    _, client = skin.verifier(key={**public, "kid": "jr-1", "alg": alg}, session_key="s" * 32, clock=clock)
    assert client.get(f"/sso?token={token}").status == 303


# -- node's jose --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_jose(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where ``node jose.mjs`` finds the ``jose`` package."""
    modules = os.environ.get("SSO_NODE_MODULES")
    node = shutil.which("node")
    if not (node and modules and (Path(modules) / "jose" / "package.json").exists()):
        if os.environ.get("SSO_REQUIRE_NODE"):
            pytest.fail("node and jose (npm) are not installed; set SSO_NODE_MODULES to its node_modules")
        pytest.skip("node's jose is not installed (set SSO_NODE_MODULES to a node_modules holding it)")
    here = tmp_path_factory.mktemp("node")
    (here / "node_modules").symlink_to(Path(modules).resolve())
    shutil.copy(Path(__file__).parent / "interop" / "jose.mjs", here / "jose.mjs")
    return here


def node(where: Path, *args: str) -> tuple[int, Any]:
    done = subprocess.run(["node", str(where / "jose.mjs"), *args], capture_output=True, text=True,
                          timeout=60, cwd=where, check=False)
    return done.returncode, json.loads(done.stdout or "null")


@pytest.mark.network
@pytest.mark.slow
def test_node_jose_verifies_every_algorithm_through_our_jwks(issuer_url: str, node_jose: Path) -> None:
    url = f"{issuer_url}/sso/.well-known/jwks.json"
    for alg in (a for a in ALGORITHMS if a != "Ed448"):  # node's jose has no Ed448
        code, answer = node(node_jose, "verify", url, minted(issuer_url, alg), alg)
        assert code == 0, answer
        assert answer["payload"]["sub"] == "7" and answer["header"]["kid"] == KEYS[alg].kid
    # and refuses a token of ours whose algorithm it was not told to expect
    code, answer = node(node_jose, "verify", url, minted(issuer_url, "ES256"), "RS256")
    assert code == 1 and answer["error"] == "ERR_JOSE_ALG_NOT_ALLOWED"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519"])
@pytest.mark.slow
def test_we_verify_what_node_jose_signs_and_agree_on_its_thumbprint(skin: Skin, node_jose: Path,
                                                                    alg: str) -> None:
    code, answer = node(node_jose, "sign", alg)
    assert code == 0
    jwk = answer["jwk"]
    assert thumbprint(jwk) == jwk["kid"]  # RFC 7638, computed by both
    _, client = skin.verifier(key={"keys": [{**jwk, "alg": alg}]}, session_key="s" * 32)
    response = client.get(f"/sso?token={answer['token']}")
    assert response.status == 303, response.text


@pytest.mark.slow
def test_we_verify_node_jose_ed25519_through_a_jwk_that_names_no_alg(skin: Skin, node_jose: Path) -> None:
    """node's ``jose`` exports an Ed25519 JWK without ``alg``; its tokens say ``Ed25519``."""
    code, answer = node(node_jose, "sign", "Ed25519")
    assert code == 0 and "alg" not in answer["jwk"]
    _, client = skin.verifier(key={"keys": [answer["jwk"]]}, session_key="s" * 32)
    response = client.get(f"/sso?token={answer['token']}")
    assert response.status == 303, response.text


# -- every JWT preset -----------------------------------------------------------------------
# Each preset in services.PRESETS whose token is a JWS, built from sample options (a new preset
# is covered as soon as its options are here), signs a token that joserfc and node's jose verify
# with the preset's own key: the shared secret, or the public half of its key pair.

PRESET_OPTIONS: dict[str, Any] = {
    "hosts": ["feedback.acme.com"], "board": "acme", "subdomain": "acme", "account": "acme",
    "organization": "acme", "org": "acme", "site": "https://docs.acme.com", "docs": "https://docs.acme.com",
    "portal": "https://feedback.acme.com", "page": "https://updates.acme.com",
    "helpdesk": "https://acme.mojohelpdesk.com", "url": "https://app.acme.com", "project_id": "p-123",
    "key_id": "app_64a1", "secret_id": "secret-id-1", "client_id": "client-id-1", "company": "acme",
    "customer_id": "invoiced_id",
}
# optional, but given: one of two ways to name the tenant, or what an issuing Invoiced needs
ALSO_GIVEN = {"company", "subdomain", "customer_id"}
PRESET_SECRET = "0123456789abcdef" * 4  # 64 bytes (HS512 wants as many), and hex (Pylon reads it so)
PRESET_PAIRS = {alg: Key.generate(alg) for alg in ("RS256", "EdDSA", "ES256")}
ADA = Principal(7, "ada@example.com", "Ada Lovelace", {"invoiced_id": 1234})


def preset_service(name: str) -> Service:
    """The preset called ``name``, built with the sample options and the first key it takes."""
    preset = services.PRESETS[name]
    required = [p.name for p in inspect.signature(preset).parameters.values()
                if p.default is p.empty or p.name in ALSO_GIVEN]
    keyword = "secret" if "secret" in required else "key"
    missing = sorted(set(required) - {keyword} - set(PRESET_OPTIONS))
    assert not missing, f"services.{name}: add a sample value for {missing} to PRESET_OPTIONS"
    options = {option: PRESET_OPTIONS[option] for option in required if option != keyword}
    refusals = []
    for key in (PRESET_SECRET, *PRESET_PAIRS.values()):
        try:
            return preset(**options, **{keyword: key})
        except ConfigurationError as e:  # a vendor of key pairs, or one algorithm only: the next
            refusals.append(e.message)
    raise AssertionError(f"services.{name} took none of the sample keys: {refusals}")


def _is_jws(name: str) -> bool:
    return not isinstance(preset_service(name).destination.placement, (SignedPayload, UserHash))


JWT_PRESETS = sorted(name for name in services.PRESETS if _is_jws(name))


def test_the_jwt_presets_are_every_preset_but_the_signed_payload_and_the_user_hashes() -> None:
    others = {name for name in services.PRESETS if name not in JWT_PRESETS}
    placements = {type(preset_service(name).destination.placement) for name in others}
    assert placements <= {SignedPayload, UserHash}
    assert {"userjot", "upvoty", "zendesk_messaging", "stream", "knock", "readme", "happyfox", "helpjuice",
            "hellonext", "zentrik", "mojo", "loopedin"} <= set(JWT_PRESETS)


def minted_by(name: str) -> tuple[Service, str, str, dict[str, Any]]:
    """``(service, token, alg, the key a verifier needs: {"secret": ...} or {"jwk": ...})``."""
    svc = preset_service(name)
    assert svc.keys is not None
    key = svc.keys.signing
    token = svc.mint(ADA, time.time())
    return svc, token, key.algorithm, {"jwk": key.public_jwk()} if key.pair else {"secret": PRESET_SECRET}


@pytest.mark.parametrize("name", JWT_PRESETS)
def test_joserfc_verifies_every_jwt_presets_token(name: str) -> None:
    from joserfc import jwk, jwt
    from joserfc.errors import BadSignatureError
    from joserfc.jws import JWSRegistry
    from joserfc.registry import HeaderParameter

    svc, token, alg, given = minted_by(name)
    key = jwk.import_key(given["jwk"]) if "jwk" in given else jwk.OctKey.import_key(given["secret"])
    # a vendor's own header members (Tableau's iss), which joserfc refuses unless told of them
    registry = JWSRegistry({member: HeaderParameter(member, "str") for member in svc.token.header or {}},
                           algorithms=[alg])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc's notes on EdDSA's name and HMAC key sizes
        decoded = jwt.decode(token, key, registry=registry)
        head, payload, sig = token.split(".")
        # (a payload ends in '}', which base64url never writes as 'AA': the token always changes)
        with pytest.raises(BadSignatureError):  # joserfc checks the signature before it reads the payload
            jwt.decode(f"{head}.{payload[:-2]}AA.{sig}", key, registry=registry)
    assert decoded.header["alg"] == alg and decoded.header.get("kid") == svc.keys.signing.kid  # type: ignore[union-attr]
    claims = dict(decoded.claims)
    if svc.token.iat_in_ms:  # Helpjuice's iat is in milliseconds, by its own rule: seconds for the check
        claims["iat"] //= 1000
    if not isinstance(claims.get("sub", ""), str):  # Invoiced's integer customer id, as its docs sign it;
        assert name == "invoiced"  # RFC 7519 (and joserfc) want a string: the one vendor that differs
        claims["sub"] = str(claims["sub"])
    jwt.JWTClaimsRegistry(exp={"essential": True}).validate(claims)
    assert {claim: claims[claim] for claim in svc.token.identity if claim in claims}


@pytest.mark.slow
def test_node_jose_verifies_every_jwt_presets_token(node_jose: Path) -> None:
    minted = {name: minted_by(name) for name in JWT_PRESETS}
    cases = [{"name": name, "token": token, "alg": alg, **given}
             for name, (_, token, alg, given) in minted.items()]
    # and each again with another key of its kind, which must fail
    cases += [{**case, "name": f"{case['name']}!", "secret": "another-secret-0123456789abcdef-xyz"}
              if "secret" in case else
              {**case, "name": f"{case['name']}!", "jwk": Key.generate(case["alg"]).public_jwk()}
              for case in cases]
    done = subprocess.run(["node", str(node_jose / "jose.mjs"), "verify-batch"], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=120, cwd=node_jose, check=True)
    answers = {answer["name"]: answer for answer in json.loads(done.stdout)}
    for name, (svc, token, alg, _) in minted.items():
        answer = answers[name]
        assert "error" not in answer, (name, answer)
        assert answer["header"]["alg"] == alg and answer["header"].get("kid") == svc.keys.signing.kid  # type: ignore[union-attr]
        assert answer["payload"] == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert answers[f"{name}!"]["error"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
