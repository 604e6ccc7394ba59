"""Our key-pair tokens, checked by stacks we did not write, through the JWKS our issuer serves on a
real server: joserfc (Python) and node's ``jose`` (panva/jose); and their tokens checked by us.

Node's ``jose`` is looked up in ``$SSO_NODE_MODULES`` (CI installs it there with npm); without it
those tests skip, unless ``SSO_REQUIRE_NODE`` is set (CI sets it), which makes them fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Clock, Skin
from servers import serve

from sso_middleware.keys import Key, thumbprint
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
    private = jwk.generate_key(kty, options)  # type: ignore[arg-type]
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
