"""Keys as people store them: whitespace around a secret is refused through every door that takes
one, random bytes and key pairs are left alone, and a warning about a key points at the line that
configured it, however deep in the library it is raised."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from helpers import KEY, OTHER_KEY

from sso_middleware import ConfigurationError, asgi, services, wsgi
from sso_middleware.keys import Key, KeySet, ShortKeyWarning, stray_whitespace


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:  # never called
    raise AssertionError


def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:  # never called
    raise AssertionError


# -- whitespace around a secret ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        pytest.param(KEY + "\n", "ends with '\\n'", id="read-from-a-file"),
        pytest.param(KEY + "\r\n", "ends with '\\r\\n'", id="windows-line-end"),
        pytest.param(KEY + " ", "ends with ' '", id="trailing-space"),
        pytest.param(KEY + "\t\n", "ends with '\\t\\n'", id="tab-and-newline"),
        pytest.param(" " + KEY, "starts with ' '", id="leading-space"),
        pytest.param(KEY + "\u00a0", "ends with '\\xa0'", id="copied-from-a-web-page"),
        pytest.param((KEY + "\n").encode(), "ends with '\\n'", id="bytes-read-from-a-file"),
        pytest.param("\n", "is only whitespace", id="only-a-newline"),
    ],
)
def test_a_secret_with_whitespace_around_it_is_refused_with_how_to_strip_it(
    secret: str | bytes, said: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Key(secret)
    message = refused.value.message
    assert said in message and ".strip()" in message and "bad signature" in message
    assert KEY not in message  # a configuration message names the mistake, never the key


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda key: Key(key), id="Key"),
        pytest.param(lambda key: KeySet.build([KEY, key], algorithm="HS256", field="key"),
                     id="rotation-list"),
        pytest.param(lambda key: services.frill(key=key, hosts=["a.com"]), id="preset"),
        pytest.param(lambda key: services.discourse(secret=key, url="https://forum.acme.com"),
                     id="discourse"),
        pytest.param(lambda key: services.from_config({"frill": {"key": key, "hosts": ["a.com"]}}),
                     id="settings"),
        pytest.param(lambda key: wsgi.VerifierMiddleware(wsgi_app, key=key), id="wsgi-verifier"),
        pytest.param(lambda key: asgi.VerifierMiddleware(asgi_app, key=key), id="asgi-verifier"),
        pytest.param(lambda key: wsgi.VerifierMiddleware(wsgi_app, key=OTHER_KEY, session_key=key),
                     id="session-key"),
    ],
)
def test_every_door_that_takes_a_secret_follows_the_one_rule(build: Callable[[str], Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"ends with '\\n'.*\.strip\(\)"):
        build(KEY + "\n")
    build(KEY)  # the same key, stripped, is fine


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(b"\xff" * 31 + b"\n", id="random-bytes-ending-in-0x0a"),
        pytest.param(b" \x00\x01" + b"\x80" * 30, id="random-bytes-starting-with-0x20"),
        pytest.param(b"\x00\x01\x02" * 11 + b" ", id="bytes-that-are-not-text"),
        pytest.param("a key with spaces inside it, not around it", id="spaces-inside"),
    ],
)
def test_random_bytes_and_inner_spaces_are_secrets_as_given(secret: str | bytes) -> None:
    # secrets.token_bytes() ends in a whitespace byte about once in 40 keys: it is not text
    assert stray_whitespace(secret) is None
    raw = secret.encode() if isinstance(secret, str) else secret
    assert Key(secret).secret == raw


def test_a_key_pair_pem_ends_in_a_newline_and_that_is_fine() -> None:
    pair = Key.generate("ES256")
    pem = pair.private_pem().decode()
    assert pem.endswith("\n")
    assert Key(pem + "\n").kid == Key(pem).kid == pair.kid
    assert Key(pair.public_pem() + b"\r\n").kid == pair.kid


def test_without_cryptography_a_key_pair_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # a dependency now; an environment that lost it still gets a clear message, not an ImportError
    pem = Key.generate("ES256").private_pem()
    monkeypatch.setattr("jwt.algorithms.has_crypto", False)
    for build in (lambda: Key.generate("ES256"), lambda: Key(pem)):
        with pytest.raises(ConfigurationError, match=r"'cryptography' package.*pip install cryptography"):
            build()
    assert Key(KEY).secret == KEY.encode()  # shared secrets never needed it


# -- warnings point at the user's line ------------------------------------------------------------

SHORT = "short"  # 5 bytes: under every preset's floor (Discourse's is 10)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: Key(SHORT), id="Key"),
        pytest.param(lambda: KeySet.build(SHORT, algorithm="HS256", field="key"), id="KeySet.build"),
        pytest.param(lambda: services.frill(key=SHORT, hosts=["a.com"]), id="frill"),
        pytest.param(lambda: services.invoiced(key=SHORT, company="acme", customer_id="invoiced_id"),
                     id="invoiced"),
        pytest.param(lambda: services.zendesk(key=SHORT, subdomain="acme"), id="zendesk"),
        pytest.param(lambda: services.helpscout(key=SHORT, site="https://docs.acme.com"), id="helpscout"),
        pytest.param(lambda: services.discourse(secret=SHORT, url="https://forum.acme.com"), id="discourse"),
        pytest.param(lambda: services.tableau(secret=SHORT, secret_id="s-1", client_id="c-1"), id="tableau"),
        pytest.param(lambda: services.from_config({"frill": {"key": SHORT, "hosts": ["a.com"]}}),
                     id="settings"),
        pytest.param(lambda: wsgi.VerifierMiddleware(wsgi_app, key=SHORT), id="wsgi-verifier"),
        pytest.param(lambda: asgi.VerifierMiddleware(asgi_app, key=SHORT), id="asgi-verifier"),
        pytest.param(lambda: wsgi.VerifierMiddleware(
            wsgi_app, service=services.frill(key=SHORT, hosts=["a.com"]), strict=True), id="wsgi-stand-in"),
        pytest.param(lambda: asgi.VerifierMiddleware(asgi_app, key=KEY, session_key=SHORT), id="session-key"),
        pytest.param(lambda: wsgi.IssuerMiddleware(wsgi_app, services=[services.canny(key=SHORT)],
                                                   user=lambda request: None), id="wsgi-issuer"),
        pytest.param(lambda: asgi.IssuerMiddleware(asgi_app, services=[services.canny(key=SHORT)],
                                                   user=lambda request: None), id="asgi-issuer"),
    ],
)
def test_a_short_key_warning_points_at_the_line_that_configured_it(build: Callable[[], Any]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build()
    shorts = [w for w in caught if issubclass(w.category, ShortKeyWarning)]
    assert len(shorts) == 1, [str(w.message) for w in caught]
    assert shorts[0].filename == __file__, (shorts[0].filename, shorts[0].lineno)


def test_the_warning_names_the_exact_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = test_the_warning_names_the_exact_line.__code__.co_firstlineno + 4
        services.frill(key=SHORT, hosts=["a.com"])
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


# -- HMAC with the key's blocks hashed once -----------------------------------------------------


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("length", [1, 31, 32, 63, 64, 65, 127, 128, 129, 300])
def test_hmac_signs_and_verifies_as_the_standard_library_does(algorithm: str, length: int) -> None:
    """Keys shorter than, as long as and longer than the hash's block (64 or 128 bytes, which
    HMAC hashes first): the signature is ``hmac.digest``'s, byte for byte."""
    import hmac

    secret = bytes((7 * i + length) % 251 + 1 for i in range(length))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortKeyWarning)
        key = Key(secret, algorithm=algorithm)
    for message in (b"", b"a", b"x" * 1000, bytes(range(256))):
        expected = hmac.digest(secret, message, algorithm.replace("HS", "sha"))
        assert key.sign(message) == expected
        assert key.verify(message, expected)
        assert not key.verify(message, expected[:-1] + bytes([expected[-1] ^ 1]))
