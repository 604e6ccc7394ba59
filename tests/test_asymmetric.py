"""Key pairs end to end: signing and verifying per algorithm, the algorithm bound to the key (the
classic confusion attacks), the published JWKS and rotation, and verifiers that fetch a JWKS URL
(cached, rate-limited, bounded, failing closed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from helpers import Clock, Skin

from sso_middleware import services
from sso_middleware.errors import ConfigurationError
from sso_middleware.jwks import RemoteKeys, parse
from sso_middleware.keys import Key, KeySet, thumbprint
from sso_middleware.service import Destination, Service, TokenRules
from sso_middleware.tokens import TokenPolicy, sign, verify

PAIRS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
NOW = 1_800_000_000.0
_KEYS: dict[str, Key] = {}


def pair(alg: str) -> Key:
    """One generated key per algorithm for the whole module (RSA generation is slow)."""
    if alg not in _KEYS:
        _KEYS[alg] = Key.generate(alg)
    return _KEYS[alg]


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 300, "jti": "j-1", **extra}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], body: dict[str, Any], secret: bytes) -> str:
    """A token signed with HMAC-SHA256 over ``secret``, as an attacker would make it."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def unsigned(header: dict[str, Any], signature: str) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}.{signature}"


def refusal(token: str, policy: TokenPolicy) -> str:
    try:
        verify(token, policy, NOW)
    except Exception as e:
        return str(getattr(e, "code", type(e).__name__))
    return "accepted"


# -- keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", PAIRS)
def test_each_algorithm_signs_and_verifies_with_the_public_half_alone(alg: str) -> None:
    key = pair(alg)
    token = sign(claims(), key)
    public = Key(key.public_pem(), algorithm=alg)
    assert not public.private and public.kid == key.kid  # the thumbprint names the key, not its half
    assert verify(token, TokenPolicy(KeySet([public]), identity=("sub",)), NOW).subject == "ada"
    from_jwk = TokenPolicy(KeySet([Key(key.public_jwk())]), identity=("sub",))
    assert verify(token, from_jwk, NOW).claims["jti"] == "j-1"
    # PyJWT, on its own, with the PEM
    unchecked_dates = {"verify_exp": False, "verify_iat": False}
    assert jwt.decode(token, key.public_pem(), algorithms=[alg], options=unchecked_dates)["sub"] == "ada"
    header = jwt.get_unverified_header(token)
    assert header == {"alg": alg, "kid": key.kid, "typ": "JWT"}


@pytest.mark.parametrize("alg", PAIRS)
def test_a_tampered_or_resigned_token_is_refused(alg: str) -> None:
    key = pair(alg)
    policy = TokenPolicy(KeySet([Key(key.public_jwk())]))
    head, _, sig = sign(claims(), key).split(".")
    other = b64(json.dumps(claims(sub="eve")).encode())
    assert refusal(f"{head}.{other}.{sig}", policy) == "token_bad_signature"
    stranger = Key.generate(alg, kid=key.kid)  # same kid, another key
    assert refusal(sign(claims(), stranger), policy) == "token_bad_signature"


def test_the_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 7638 section 3.1's example key and thumbprint
    rfc = {"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29", "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZ"
        "CiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJ"
        "ZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xB"
        "niIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")}
    assert thumbprint(rfc) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    without_kid = {k: v for k, v in rfc.items() if k != "kid"}
    assert Key(without_kid).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert Key(rfc).kid == "2011-04-29"  # a JWK's own kid is kept


def test_key_mistakes_are_caught_when_built() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (pem, {}, "1024 bits; at least 2048"),  # Freshworks' own docs generate these: refused
        (pair("ES384").private_pem(), {"algorithm": "ES256"}, "cannot sign ES256"),
        (pair("EdDSA").private_pem(), {"algorithm": "RS256"}, "cannot sign RS256"),
        (pair("RS256").public_pem(), {"algorithm": "HS256"}, "not a shared secret"),
        (json.dumps(pair("ES256").public_jwk()), {"algorithm": "HS256"}, "not a shared secret"),
        ("a-shared-secret-of-thirty-two-bytes!!", {"algorithm": "ES256"}, "key pair"),
        ({"kty": "oct", "k": "c2VjcmV0"}, {}, "not a key pair"),
        ({**pair("ES256").public_jwk(), "alg": "RS256"}, {}, "cannot sign RS256"),
        (b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----", {}, "could not be read"),
    ]
    for material, options, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            Key(material, **options)
    with pytest.raises(ConfigurationError, match="public key: it can verify but not sign"):
        Key(pair("ES256").public_pem()).sign(b"x")
    assert "BEGIN" not in repr(pair("RS256")) and "private" in repr(pair("RS256"))


def test_an_issuer_refuses_a_public_key_and_a_per_user_key_pair(skin: Skin) -> None:
    public = services.grafana(key=pair("RS256").public_pem(), url="https://grafana.acme.com")
    with pytest.raises(ConfigurationError, match="only a public key"):
        skin.issuer(services=[public])
    with pytest.raises(ConfigurationError, match="cannot be published in the JWKS"):
        services.grafana(key=lambda user: pair("RS256"), url="https://grafana.acme.com")  # type: ignore[arg-type]


# -- algorithm confusion --------------------------------------------------------------


@pytest.mark.parametrize("allowed", [None, frozenset({"RS256", "HS256"})], ids=["default", "hs256-allowed"])
def test_confusion_attacks_are_refused(allowed: frozenset[str] | None) -> None:
    rsa_key = pair("RS256")
    public_pem, public_jwk = rsa_key.public_pem(), rsa_key.public_jwk()
    policy = TokenPolicy(KeySet([Key(public_pem)]), algorithms=allowed)
    kid = rsa_key.kid
    attacks = {
        # HMAC keyed with the public key's PEM, DER-ish JSON, or its modulus (CVE-2015-9235 and kin)
        "hs256-pem": forged({"alg": "HS256", "typ": "JWT"}, claims(), public_pem),
        "hs256-pem-kid": forged({"alg": "HS256", "kid": kid}, claims(), public_pem),
        "hs256-jwk-json": forged({"alg": "HS256", "kid": kid}, claims(), json.dumps(public_jwk).encode()),
        "hs256-n": forged({"alg": "HS256"}, claims(), public_jwk["n"].encode()),
        # alg none, in every spelling
        "none": unsigned({"alg": "none"}, ""),
        "None": unsigned({"alg": "None"}, "AA"),
        # a key of the attacker's own, embedded in the header (jwk / jku / x5u are never read)
        "embedded-jwk": sign(claims(), pair("ES256")).replace(
            sign(claims(), pair("ES256")).split(".")[0],
            b64(json.dumps({"alg": "ES256", "jwk": pair("ES256").public_jwk()}).encode())),
        "jku": forged({"alg": "HS256", "jku": "https://evil.example/jwks.json"}, claims(), b"k" * 32),
        # the right kid with another algorithm of the same key type
        "ps256-with-rs256-key": sign(claims(), Key(rsa_key.private_pem(), algorithm="PS256")),
        "es256-zero-signature": unsigned({"alg": "ES256"}, b64(bytes(64))),  # CVE-2022-21449's r = s = 0
    }
    for name, token in attacks.items():
        assert refusal(token, policy) != "accepted", name
    # and the genuine token still passes
    assert refusal(sign(claims(), rsa_key), policy) == "accepted"


def test_a_verifier_holding_a_secret_and_a_key_pair_keeps_each_to_its_algorithm() -> None:
    secret, rsa_key = Key("s" * 32, kid="hmac"), pair("RS256")
    policy = TokenPolicy(KeySet([secret, Key(rsa_key.public_pem())]))
    assert refusal(sign(claims(), secret), policy) == "accepted"
    assert refusal(sign(claims(), rsa_key), policy) == "accepted"
    # HS256 keyed with the RSA public key, naming the RSA kid: that kid's key is RS256 only
    assert refusal(forged({"alg": "HS256", "kid": rsa_key.kid}, claims(), rsa_key.public_pem()), policy) \
        == "token_algorithm_not_allowed"


# -- the published JWKS and rotation --------------------------------------------------


def grafana(key: Any = None) -> Service:
    return services.grafana(key=key or pair("RS256"), url="https://grafana.acme.com")


def test_the_issuer_publishes_public_keys_only(skin: Skin) -> None:
    client = skin.issuer(services=[grafana(), services.mintlify(key=pair("EdDSA"), docs="https://docs.acme.com"),
                                   services.frill(key="f" * 32, hosts=["fb.acme.com"])])
    response = client.get("/sso/.well-known/jwks.json")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Content-Type"] == "application/json"
    keys = response.json()["keys"]
    assert [(k["kid"], k["alg"]) for k in keys] == [(pair("RS256").kid, "RS256"),
                                                    (pair("EdDSA").kid, "EdDSA")]
    for jwk in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk)
        assert thumbprint(jwk) == jwk["kid"]
    assert "f" * 32 not in response.text
    head = client.request("HEAD", "/sso/.well-known/jwks.json")
    assert head.status == 200 and head.text == ""
    assert client.request("POST", "/sso/.well-known/jwks.json").status == 405


def test_an_issuer_of_shared_secrets_publishes_nothing(skin: Skin) -> None:
    client = skin.issuer(services=[services.frill(key="f" * 32, hosts=["fb.acme.com"])])
    answer = client.get("/sso/.well-known/jwks.json").json()
    assert answer["path"] == "/sso/.well-known/jwks.json"  # the app's own page, not ours


def test_two_keys_with_one_kid_are_refused(skin: Skin) -> None:
    one, two = Key.generate("ES256", kid="k"), Key.generate("ES256", kid="k")
    with pytest.raises(ConfigurationError, match="kid 'k'"):
        skin.issuer(services=[grafana(one), services.mintlify(key=Key.generate("EdDSA", kid="k"),
                                                              docs="https://docs.acme.com"),
                              services.grafana(key=two, url="https://g2.acme.com", name="g2")])


def test_rotation_keeps_a_live_token_good_until_the_old_key_is_dropped(skin: Skin, clock: Clock) -> None:
    old, new = Key.generate("ES256", kid="2026-11"), Key.generate("ES256", kid="2026-12")
    before = skin.issuer(services=[services.grafana(key=old, url="https://grafana.acme.com",
                                                    algorithm="ES256")], clock=clock)
    ada = {"X-User": "ada"}
    live = before.get("/sso/grafana?redirect=/d", headers=ada).location
    # rotate: the new key signs, the old one stays published
    after = skin.issuer(services=[services.grafana(key=[new, old], url="https://grafana.acme.com",
                                                   algorithm="ES256")], clock=clock)
    published = after.get("/sso/.well-known/jwks.json").json()
    assert [k["kid"] for k in published["keys"]] == ["2026-12", "2026-11"]
    fresh = after.get("/sso/grafana?redirect=/d", headers=ada).location
    assert jwt.get_unverified_header(fresh.split("auth_token=")[1])["kid"] == "2026-12"

    def receiver(jwks: dict[str, Any]) -> Any:
        return skin.verifier(key=jwks, placement=services.QueryParameter("auth_token"), path="/d",
                             session_key="s" * 32, clock=clock)[1]

    for token_url in (live, fresh):
        path = token_url.split("grafana.acme.com")[1]
        assert receiver(published).get(path).status == 303
    # once the old key is dropped (after its tokens expired), its tokens are unknown
    dropped = {"keys": [k for k in published["keys"] if k["kid"] == "2026-12"]}
    refused = receiver(dropped).get(live.split("grafana.acme.com")[1], headers={"Accept": "application/json"})
    assert refused.status == 401 and refused.json()["error"] == "token_unknown_key"


# -- verifiers that fetch a JWKS URL --------------------------------------------------


class JWKSServer:
    """A JWKS over real HTTP that a test can change, break, slow down or count."""

    def __init__(self, document: dict[str, Any]) -> None:
        from werkzeug.serving import make_server

        self.document: Any = document
        self.fetches = 0
        self.status = 200
        self.hang = threading.Event()
        self.release = threading.Event()

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            self.fetches += 1
            if self.hang.is_set():
                self.release.wait(30)
            body = self.document if isinstance(self.document, bytes) else json.dumps(self.document).encode()
            start_response(f"{self.status} X", [("Content-Type", "application/json")])
            return [body]

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer({"keys": [pair("RS256").public_jwk()]})
    yield server
    server.stop()


def remote_verifier(skin: Skin, clock: Clock, remote: RemoteKeys | str) -> Any:
    return skin.verifier(jwks_url=remote, placement=services.QueryParameter("auth_token"), path="/d",
                         session_key="s" * 32, clock=clock)[1]


def token_path(key: Key, clock: Clock, **extra: Any) -> str:
    body = {"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 300, **extra}
    return f"/d?auth_token={sign(body, key)}"


@pytest.mark.network
def test_a_verifier_fetches_the_jwks_once_and_caches_it(skin: Skin, clock: Clock,
                                                         jwks_server: JWKSServer) -> None:
    client = remote_verifier(skin, clock, jwks_server.url)
    for n in range(3):
        assert client.get(token_path(pair("RS256"), clock, jti=f"t{n}")).status == 303
    assert jwks_server.fetches == 1
    clock.advance(301)  # older than cache_for: fetched again
    assert client.get(token_path(pair("RS256"), clock, jti="t9")).status == 303
    assert jwks_server.fetches == 2


@pytest.mark.network
def test_an_unknown_kid_fetches_again_at_most_once_per_interval(skin: Skin, clock: Clock,
                                                                 jwks_server: JWKSServer) -> None:
    client = remote_verifier(skin, clock, jwks_server.url)
    assert client.get(token_path(pair("RS256"), clock, jti="a")).status == 303
    forger = Key.generate("RS256")
    for n in range(5):  # forged kids: one fetch per interval, however many tokens
        response = client.get(token_path(forger, clock, jti=f"f{n}"), headers={"Accept": "application/json"})
        assert response.json()["error"] == "token_unknown_key"
    assert jwks_server.fetches == 1  # the first forged kid came within 30 s of the first fetch
    clock.advance(31)
    client.get(token_path(forger, clock, jti="g"))
    client.get(token_path(forger, clock, jti="h"))
    assert jwks_server.fetches == 2
    # the issuer rotates: the new key's first token triggers the fetch that finds it
    rotated = Key.generate("RS256")
    jwks_server.document = {"keys": [rotated.public_jwk(), pair("RS256").public_jwk()]}
    clock.advance(31)
    assert client.get(token_path(rotated, clock, jti="r")).status == 303
    assert jwks_server.fetches == 3


@pytest.mark.network
def test_no_keys_and_no_jwks_is_a_503_and_cached_keys_outlive_an_outage(skin: Skin, clock: Clock,
                                                                        jwks_server: JWKSServer) -> None:
    jwks_server.status = 500
    client = remote_verifier(skin, clock, jwks_server.url)
    response = client.get(token_path(pair("RS256"), clock, jti="a"), headers={"Accept": "application/json"})
    assert (response.status, response.json()["error"]) == (503, "keys_unavailable")
    assert "Retry" not in response.text and "auth_token" not in response.text
    jwks_server.status = 200
    clock.advance(31)
    assert client.get(token_path(pair("RS256"), clock, jti="b")).status == 303
    jwks_server.status = 500
    clock.advance(301)  # the cache is old and the JWKS is down: the held key still matches
    assert client.get(token_path(pair("RS256"), clock, jti="c")).status == 303
    unknown = client.get(token_path(Key.generate("RS256"), clock, jti="d"),
                         headers={"Accept": "application/json"})
    assert (unknown.status, unknown.json()["error"]) == (503, "keys_unavailable")


@pytest.mark.parametrize("document", [
    b"not json", b"{}", b'{"keys": "no"}', {"keys": []},
    {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
    {"keys": [{**pair("ES256").public_jwk(), "use": "enc"}]},
    b'{"keys": [' + b'{"kty": "RSA"},' * 5000 + b'{}]}',  # over 64 KiB
], ids=["not-json", "empty", "keys-not-list", "no-keys", "oct", "enc", "huge"])
@pytest.mark.network
def test_an_unusable_jwks_fails_closed(skin: Skin, clock: Clock, jwks_server: JWKSServer,
                                       document: Any) -> None:
    jwks_server.document = document
    client = remote_verifier(skin, clock, jwks_server.url)
    response = client.get(token_path(pair("ES256"), clock), headers={"Accept": "application/json"})
    assert (response.status, response.json()["error"]) == (503, "keys_unavailable")


def test_a_private_key_in_a_jwks_is_never_used(caplog: pytest.LogCaptureFixture) -> None:
    from jwt.algorithms import ECAlgorithm

    private = json.loads(ECAlgorithm.to_jwk(pair("ES256")._prepared))
    keys, skipped = parse(json.dumps({"keys": [private, pair("RS256").public_jwk()]}).encode())
    assert [k.algorithm for k in keys.keys] == ["RS256"] and "PRIVATE" in skipped[0]


@pytest.mark.network
def test_a_hanging_jwks_server_costs_a_bounded_wait(skin: Skin, clock: Clock,
                                                     jwks_server: JWKSServer) -> None:
    jwks_server.hang.set()
    client = remote_verifier(skin, clock, RemoteKeys(jwks_server.url, timeout=0.3))
    response = client.get(token_path(pair("RS256"), clock), headers={"Accept": "application/json"})
    assert (response.status, response.json()["error"]) == (503, "keys_unavailable")


@pytest.mark.network
def test_a_silent_socket_costs_a_bounded_wait(skin: Skin, clock: Clock) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (the kernel does) and never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"
        client = remote_verifier(skin, clock, RemoteKeys(url, timeout=0.3))
        response = client.get(token_path(pair("RS256"), clock), headers={"Accept": "application/json"})
        assert response.status == 503
    finally:
        listener.close()


class Dripper:
    """A server that answers one connection a byte at a time, each byte well inside any per-read
    timeout, for up to 20 s (the test ends it sooner): only a deadline on the whole fetch stops it."""

    def __init__(self, script: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/jwks.json"
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script: bytes) -> None:
        connection, _ = self.listener.accept()
        with connection:
            for byte in script:
                if self.done.wait(0.02):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:  # the client shut it: the deadline worked
                    return

    def close(self) -> None:
        self.done.set()
        self.listener.close()
        self.thread.join(timeout=5)


_BODY = json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}).encode()
_DRIPS = {
    "status-line": b"HTTP/1.1 200 " + b"O" * 1000 + b"\r\n\r\n",
    "headers": b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n",
    "chunk-sizes": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\n{\r\n" * 300,
    "body": b"HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n" + b" " * 1000,
}


@pytest.mark.parametrize("phase", list(_DRIPS))
@pytest.mark.network
def test_a_dripping_jwks_server_is_cut_off_at_the_total_deadline(phase: str) -> None:
    """Issue 22 (2): the deadline held only while reading the body; a server dripping the status
    line, headers or chunk sizes held the sign-in (and every request needing keys) for as long
    as it dripped. Each script here drips for 20 s or more; the fetch must end near 0.4 s."""
    import time

    from sso_middleware.jwks import fetch_url

    dripper = Dripper(_DRIPS[phase])
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            fetch_url(dripper.url, 0.4)
        assert time.monotonic() - started < 5  # a bound, not a speed target: the old code took 20 s+
    finally:
        dripper.close()


@pytest.mark.network
def test_a_dripping_jwks_server_costs_the_verifier_a_bounded_wait(skin: Skin, clock: Clock) -> None:
    import time

    dripper = Dripper(_DRIPS["headers"])
    started = time.monotonic()
    try:
        client = remote_verifier(skin, clock, RemoteKeys(dripper.url, timeout=0.4))
        response = client.get(token_path(pair("RS256"), clock), headers={"Accept": "application/json"})
        assert (response.status, response.json()["error"]) == (503, "keys_unavailable")
        assert time.monotonic() - started < 5
    finally:
        dripper.close()


def test_requests_arriving_during_a_fetch_wait_at_most_the_timeout_and_never_fetch_twice() -> None:
    """No lock is held across the network: a second caller waits for the fetch under way
    (bounded by the timeout) instead of starting its own."""
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def fetch(url: str, timeout: float) -> bytes:
        calls.append(url)
        started.set()
        release.wait(10)
        return json.dumps({"keys": [pair("RS256").public_jwk()]}).encode()

    remote = RemoteKeys("https://app.acme.com/jwks.json", timeout=5, fetch=fetch)
    first = threading.Thread(target=remote.refresh, args=(None, 1000.0))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=remote.refresh, args=(None, 1000.0))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["https://app.acme.com/jwks.json"] and remote.keys is not None


@pytest.mark.network
def test_a_redirecting_jwks_url_is_not_followed(skin: Skin, clock: Clock, jwks_server: JWKSServer) -> None:
    jwks_server.status = 302
    client = remote_verifier(skin, clock, jwks_server.url)
    assert client.get(token_path(pair("RS256"), clock)).status == 503


def test_jwks_verifier_configuration_mistakes(skin: Skin) -> None:
    with pytest.raises(ConfigurationError, match="session_key"):
        skin.verifier(jwks_url="https://app.acme.com/sso/.well-known/jwks.json")
    with pytest.raises(ConfigurationError, match="session_key"):
        skin.verifier(key=pair("RS256").public_pem())
    with pytest.raises(ConfigurationError, match="not both"):
        skin.verifier(key="k" * 32, jwks_url="https://app.acme.com/jwks.json")
    for url in ("http://app.acme.com/jwks.json", "jwks.json", "https://user:pw@app.acme.com/j"):
        with pytest.raises(ConfigurationError, match="jwks_url"):
            skin.verifier(jwks_url=url, session_key="s" * 32)
    with pytest.raises(ConfigurationError, match="timeout"):
        RemoteKeys("https://app.acme.com/jwks.json", timeout=0)


@pytest.mark.network
def test_a_grafana_stand_in_verifies_through_the_jwks_the_app_serves(skin: Skin,
                                                                     sso_live_stand_in: Any) -> None:
    """The app under test on a real server; the stand-in fetches its JWKS over HTTP."""
    from servers import serve

    service = services.grafana(key=pair("RS256"), url="https://grafana.acme.com")
    middleware = skin.module.IssuerMiddleware(skin.echo, services=[service], user=lambda r: {
        "id": 7, "email": "ada@example.com", "name": "Ada"})
    with serve(skin.name, middleware) as base:
        import httpx

        stand_in = sso_live_stand_in(service, jwks_url=f"{base}/sso/.well-known/jwks.json")
        sent = httpx.get(f"{base}/sso/grafana?redirect=/d/abc")
        login = stand_in.follow(sent.headers["location"])
    assert login.claims["email"] == "ada@example.com" and login.principal.id == "7"


def test_a_generic_receiver_takes_a_static_jwks_or_public_pem(skin: Skin, clock: Clock) -> None:
    key = pair("EdDSA")
    forms = ({"keys": [key.public_jwk()]}, key.public_pem(), key.public_jwk(), [key.public_pem().decode()])
    for given in forms:
        _, client = skin.verifier(key=given, session_key="s" * 32, clock=clock)
        body = {"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 60}
        assert client.get(f"/sso?token={sign(body, key)}").status == 303


def test_a_service_receiving_with_its_key_pair_needs_no_session_key(skin: Skin, clock: Clock) -> None:
    svc = Service(name="apps", key=pair("ES256"), token=TokenRules(claims=lambda u: {"sub": str(u.id)},
                                                                   algorithm="ES256"),
                  destination=Destination("https://b.acme.com/sso"))
    _, client = skin.verifier(service=svc, clock=clock)  # the private key derives the session key
    body = {"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 60}
    assert client.get(f"/sso?token={sign(body, pair('ES256'))}").status == 303


# -- RFC 9864: Ed25519 and Ed448, the fully specified names of EdDSA --------------------


def test_an_edwards_key_answers_to_both_of_its_names(skin: Skin, clock: Clock) -> None:
    private = pair("EdDSA").private_pem()
    named = Key(private, algorithm="Ed25519")
    assert named.algorithm == "Ed25519" and named.kid == pair("EdDSA").kid  # one key, two names
    assert named.accepts == pair("EdDSA").accepts == {"EdDSA", "Ed25519"}
    assert named.public_jwk()["alg"] == "Ed25519"
    body = {"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 300}
    new_style, old_style = sign({**body, "jti": "a"}, named), sign({**body, "jti": "b"}, pair("EdDSA"))
    assert jwt.get_unverified_header(new_style)["alg"] == "Ed25519"
    # a verifier holding the key under either name takes tokens under either name
    for key in (pair("EdDSA").public_jwk(with_kid=False), named.public_jwk()):
        _, client = skin.verifier(key=key, session_key="s" * 32, clock=clock)
        assert client.get(f"/sso?token={new_style}").status == 303
        assert client.get(f"/sso?token={old_style}").status == 303
    # an allow-list that names one of them is kept to the letter
    _, strict = skin.verifier(key=named.public_jwk(), algorithms=["EdDSA"], session_key="s" * 32, clock=clock)
    assert strict.get(f"/sso?token={new_style}").status == 401
    assert strict.get(f"/sso?token={old_style}").status == 303


def test_ed448_is_its_own_algorithm() -> None:
    ed448 = Key.generate("Ed448")
    assert ed448.public_jwk()["crv"] == "Ed448" and ed448.accepts == {"EdDSA", "Ed448"}
    token = sign({"sub": "ada", "iat": int(NOW), "exp": int(NOW) + 60}, ed448)
    policy = TokenPolicy(KeySet([Key(ed448.public_jwk())]), identity=("sub",))
    assert verify(token, policy, NOW).subject == "ada"
    with pytest.raises(ConfigurationError, match="a Ed448 key cannot sign Ed25519"):
        Key(ed448.private_pem(), algorithm="Ed25519")
    with pytest.raises(ConfigurationError, match="a Ed25519 key cannot sign Ed448"):
        Key(pair("EdDSA").private_pem(), algorithm="Ed448")
    # an Edwards name never reaches another kind of key
    assert pair("ES256").accepts == {"ES256"}
    with pytest.raises(ConfigurationError, match="cannot sign Ed25519"):
        Key(pair("ES256").private_pem(), algorithm="Ed25519")
