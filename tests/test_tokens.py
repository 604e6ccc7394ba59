from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

import jwt as pyjwt
import pytest
from helpers import KEY, vectors

from sso_middleware import errors
from sso_middleware.keys import Key, KeySet, ShortKeyWarning
from sso_middleware.tokens import OwnTokens, TokenPolicy, b64encode, sign, verify

NOW = 1_800_000_000


def policy(key: str | bytes | list[Any] = KEY, **options: Any) -> TokenPolicy:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortKeyWarning)
        keys = KeySet.build(key, algorithm=options.pop("algorithm", "HS256"), field="key")
    return TokenPolicy(keys, **options)


def raw_token(header: Any, payload: Any, key: str = KEY, alg: str = "sha256") -> str:
    """A token signed over arbitrary header/payload bytes (for malformed-claim cases)."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    p = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = b64encode(h) + "." + b64encode(p)
    sig = hmac.new(key.encode(), signing_input.encode(), getattr(hashlib, alg)).digest()
    return signing_input + "." + b64encode(sig)


def good(**claims: Any) -> dict[str, Any]:
    return {"sub": "7", "iat": NOW, "exp": NOW + 300, "jti": "j1", **claims}


# -- published vectors ---------------------------------------------------------------


def test_jwtio_sample_reproduced_byte_for_byte() -> None:
    v = vectors()["jwtio_sample"]
    assert sign(v["payload"], Key(v["secret"].encode() * 2)) != v["token"]  # key matters
    with pytest.warns(ShortKeyWarning):
        key = Key(v["secret"])
    assert sign(v["payload"], key) == v["token"]


def test_jwtio_sample_has_no_exp_so_it_is_refused() -> None:
    v = vectors()["jwtio_sample"]
    with pytest.raises(errors.MissingTokenClaim) as e:
        verify(v["token"], policy(v["secret"]), v["payload"]["iat"] + 10)
    assert e.value.claim == "exp"


def test_invoiced_docs_token_verifies_with_integer_sub() -> None:
    v = vectors()["invoiced_docs"]
    result = verify(v["token"], policy(v["secret"]), v["payload"]["exp"] - 60)
    assert result.claims == v["payload"]
    assert result.claims["sub"] == 1234 and isinstance(result.claims["sub"], int)
    with pytest.raises(errors.TokenExpired):
        verify(v["token"], policy(v["secret"], leeway=0), v["payload"]["exp"] + 1)


def test_rfc7515_a1_verifies_before_its_exp() -> None:
    v = vectors()["rfc7515_a1_hs256"]
    secret = base64.urlsafe_b64decode(v["jwk"]["k"] + "==")
    claims = verify(v["token"], policy(secret), 1300819380 - 100).claims
    assert claims["iss"] == "joe"
    with pytest.raises(errors.TokenExpired):
        verify(v["token"], policy(secret), 1300819380 + 3600)


def test_rfc7520_kid_signing_primitive() -> None:
    v = vectors()["rfc7520_4_4_hs256_kid"]
    secret = base64.urlsafe_b64decode(v["jwk"]["k"] + "=")
    key = Key(secret, kid=v["jwk"]["kid"])
    signing_input = f"{v['protected_b64']}.{v['payload_b64']}".encode()
    assert b64encode(key.sign(signing_input)) == v["signature"]
    assert key.verify(signing_input, base64.urlsafe_b64decode(v["signature"] + "="))


def test_rfc4231_hmac_sha256() -> None:
    v = vectors()["rfc4231_case2_hmac_sha256"]
    with pytest.warns(ShortKeyWarning):
        key = Key(v["key"])
    assert key.sign(v["data"].encode()).hex() == v["hex"]


# -- keys ----------------------------------------------------------------------------


def test_key_string_is_never_base64_decoded() -> None:
    secret = "c2VjcmV0LXRoYXQtbG9va3MtbGlrZS1iYXNlNjQtZW5jb2Rpbmc="
    token = sign({"sub": "1", "exp": NOW + 60}, Key(secret))
    assert pyjwt.decode(token, secret.encode(), algorithms=["HS256"])["sub"] == "1"


@pytest.mark.parametrize("secret", ["", b""])
def test_empty_key_refused(secret: str | bytes) -> None:
    with pytest.raises(errors.ConfigurationError, match="empty"):
        Key(secret)


def test_short_key_warned_once_at_construction_never_per_use() -> None:
    with pytest.warns(ShortKeyWarning, match="24 bytes"):
        key = Key("{sso_key_from_dashboard}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning now would fail the test
        for _ in range(3):
            token = sign({"sub": 1, "exp": NOW + 60}, key)
            verify(token, TokenPolicy(KeySet([key])), NOW)


def test_key_repr_hides_secret() -> None:
    key = Key(KEY, kid="k1")
    assert KEY not in repr(key) and KEY not in repr(KeySet([key]))
    assert "hidden" in repr(key)


def test_unknown_algorithm_refused_at_construction() -> None:
    for alg in ("none", "hs256", "ES256K"):
        with pytest.raises(errors.ConfigurationError, match="not supported"):
            Key(KEY, algorithm=alg)
    with pytest.raises(errors.ConfigurationError, match="key pair"):
        Key(KEY, algorithm="RS256")  # a shared secret can never sign as RSA
    with pytest.raises(errors.ConfigurationError, match="none"):
        policy(algorithms=frozenset({"none"}))


def test_rotation_by_kid_and_without_kid() -> None:
    old, new = Key(KEY, kid="old"), Key(KEY[::-1], kid="new")
    p = TokenPolicy(KeySet([new, old]))
    for key in (old, new):
        assert verify(sign(good(), key), p, NOW).claims["sub"] == "7"
    stranger = Key(KEY, kid="stranger")
    with pytest.raises(errors.UnknownKey):
        verify(sign(good(), stranger), p, NOW)
    # no kid in the token: every key is tried
    assert verify(sign(good(), Key(KEY[::-1])), p, NOW).claims["sub"] == "7"


def test_hs512_service() -> None:
    key = Key("k" * 64, algorithm="HS512")
    token = sign(good(), key)
    assert verify(token, TokenPolicy(KeySet([key])), NOW).header["alg"] == "HS512"
    # an HS256 allow-list refuses it
    with pytest.raises(errors.InvalidAlgorithm):
        verify(token, TokenPolicy(KeySet([key]), algorithms=frozenset({"HS256"})), NOW)


# -- what PyJWT lets through, and we must not (SECURITY.md) -----------------------------

VALID = sign(good(), Key(KEY))
H, P, S = VALID.split(".")


def _flip_last(sig: str) -> str:
    # a different last character that decodes to the same bytes (non-canonical encoding)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = alphabet.index(sig[-1])
    return sig[:-1] + alphabet[i ^ 1]


FORMAT_CASES = [
    pytest.param(VALID + "=", id="padding"),
    pytest.param(VALID + " ", id="trailing-space"),
    pytest.param(VALID + "\x00", id="nul"),
    pytest.param(VALID + "AA", id="junk-after-signature"),
    pytest.param(f"{H}.{P}.{_flip_last(S)}", id="non-canonical-last-char"),
    pytest.param(f"{H}.{P}.{S.replace('-', '+').replace('_', '/')}x", id="std-alphabet"),
    pytest.param(f"{H}.{P}", id="two-segments"),
    pytest.param(f"{H}.{P}.{S}.{S}", id="four-segments"),
    pytest.param(f"{H}..{S}", id="empty-payload"),
    pytest.param(f"{H}.{P}.", id="empty-signature"),
    pytest.param(f"{H}.{P}.{S[:-1]}", id="short-signature"),
    pytest.param(VALID.replace("e", "é", 1), id="non-ascii"),
    pytest.param("", id="empty"),
    pytest.param("a" * 9000, id="oversized"),
    pytest.param(f" {VALID}", id="leading-space"),
    pytest.param(f"{H}.{P}.{S}\n", id="newline"),
]


@pytest.mark.parametrize("length", [2, 3, 4, 5, 6, 7, 42, 43, 86])
def test_only_the_canonical_spelling_of_a_segment_decodes(length: int) -> None:
    # the last-character check stands for "re-encoding gives the same text": prove they agree
    import base64

    from sso_middleware.tokens import _b64decode

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for last in alphabet:
        segment = "Q" * (length - 1) + last
        try:
            data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            canonical = base64.urlsafe_b64encode(data).rstrip(b"=").decode() == segment
        except ValueError:
            canonical = False
        if canonical:
            assert _b64decode(segment) == data
        else:
            with pytest.raises(errors.InvalidToken):
                _b64decode(segment)


def test_a_cached_header_is_never_shared_with_callers() -> None:
    first = verify(VALID, policy(), NOW)
    first.header["alg"] = "none"  # a caller scribbling on what it was given ...
    assert verify(VALID, policy(), NOW).header["alg"] == "HS256"  # ... changes nothing next time
    with pytest.raises(errors.InvalidSignature):  # and the signature is checked every time
        verify(f"{H}.{P}.{S[:-2]}AA", policy(), NOW)


@pytest.mark.parametrize("token", FORMAT_CASES)
def test_malformed_token_is_a_clean_invalid_token(token: str) -> None:
    with pytest.raises(errors.InvalidToken):
        verify(token, policy(), NOW)


def test_non_str_token() -> None:
    with pytest.raises(errors.InvalidToken):
        verify(VALID.encode(), policy(), NOW)


HDR = {"alg": "HS256", "typ": "JWT"}

CLAIM_CASES = [
    pytest.param(HDR, {**good(), "exp": float("inf")}, errors.InvalidToken, id="exp-infinity"),
    pytest.param(HDR, b'{"sub":"7","exp":NaN}', errors.InvalidToken, id="exp-nan"),
    pytest.param(HDR, b'{"sub":"7","exp":Infinity}', errors.InvalidToken, id="exp-infinity-literal"),
    pytest.param(HDR, {**good(), "exp": [NOW + 60]}, errors.InvalidClaim, id="exp-list"),
    pytest.param(HDR, {**good(), "exp": None}, errors.InvalidClaim, id="exp-null"),
    pytest.param(HDR, {**good(), "exp": {"a": 1}}, errors.InvalidClaim, id="exp-object"),
    pytest.param(HDR, {**good(), "exp": str(NOW + 60)}, errors.InvalidClaim, id="exp-string"),
    pytest.param(HDR, {**good(), "exp": True}, errors.InvalidClaim, id="exp-bool"),
    pytest.param(HDR, {**good(), "exp": 10**400}, errors.InvalidClaim, id="exp-huge-int"),
    pytest.param(HDR, {**good(), "iat": "now"}, errors.InvalidClaim, id="iat-string"),
    pytest.param(HDR, {**good(), "nbf": NOW + 3600}, errors.TokenNotYetValid, id="nbf-future"),
    pytest.param(HDR, {**good(), "iat": NOW + 3600}, errors.TokenNotYetValid, id="iat-future"),
    pytest.param(HDR, {k: v for k, v in good().items() if k != "exp"}, errors.MissingTokenClaim,
                 id="no-exp"),
    pytest.param(HDR, {**good(), "exp": NOW - 3600}, errors.TokenExpired, id="expired"),
    pytest.param(HDR, {**good(), "exp": NOW + 10 * 365 * 86400}, errors.TokenLifetimeTooLong,
                 id="valid-for-years"),
    pytest.param(HDR, {**good(), "iat": NOW - 3 * 86400, "exp": NOW + 60},
                 errors.TokenLifetimeTooLong, id="lifetime-from-iat"),
    pytest.param(HDR, {**good(), "aud": "someone"}, errors.InvalidClaim, id="aud-unexpected"),
    pytest.param(HDR, {**good(), "sub": True}, errors.InvalidClaim, id="sub-bool"),
    pytest.param(HDR, {**good(), "sub": {"id": 1}}, errors.InvalidClaim, id="sub-object"),
    pytest.param(HDR, {**good(), "jti": 5}, errors.InvalidClaim, id="jti-number"),
    pytest.param(HDR, {**good(), "jti": "x" * 300}, errors.InvalidClaim, id="jti-long"),
    pytest.param(HDR, b'{"sub":"7","sub":"8","exp":1800000300}', errors.InvalidToken,
                 id="duplicate-names"),
    pytest.param(HDR, json.dumps(good()).encode("utf-16"), errors.InvalidToken, id="utf16"),
    pytest.param(HDR, json.dumps(good()).encode("utf-32"), errors.InvalidToken, id="utf32"),
    pytest.param(HDR, b"\xef\xbb\xbf" + json.dumps(good()).encode(), errors.InvalidToken,
                 id="utf8-bom"),
    pytest.param(HDR, b"[1,2]", errors.InvalidToken, id="payload-array"),
    pytest.param(HDR, b"not json", errors.InvalidToken, id="payload-not-json"),
    pytest.param(HDR, b"[" * 100_000 + b"]" * 100_000, errors.InvalidToken, id="deep-payload"),
    pytest.param(b'{"alg":"HS256","x":' + b"[" * 2500 + b"]" * 2500 + b"}", good(),
                 errors.InvalidToken, id="deep-header"),
    pytest.param({"alg": "none"}, good(), errors.InvalidAlgorithm, id="alg-none"),
    pytest.param({"alg": "HS512"}, good(), errors.InvalidAlgorithm, id="alg-not-allowed"),
    pytest.param({"alg": ["HS256"]}, good(), errors.InvalidAlgorithm, id="alg-list"),
    pytest.param({"typ": "JWT"}, good(), errors.InvalidAlgorithm, id="alg-missing"),
    pytest.param({**HDR, "kid": 5}, good(), errors.InvalidToken, id="kid-number"),
    pytest.param({**HDR, "kid": ["a"]}, good(), errors.InvalidToken, id="kid-list"),
    pytest.param({**HDR, "typ": {"x": 1}}, good(), errors.InvalidToken, id="typ-object"),
    pytest.param({**HDR, "cty": 1}, good(), errors.InvalidToken, id="cty-number"),
    pytest.param({**HDR, "crit": ["exp"]}, good(), errors.InvalidToken, id="crit"),
    pytest.param({**HDR, "b64": False}, good(), errors.InvalidToken, id="b64-false"),
    pytest.param(b"[]", good(), errors.InvalidToken, id="header-array"),
]


@pytest.mark.parametrize(("header", "payload", "error"), CLAIM_CASES)
def test_bad_claims_are_refused_cleanly(header: Any, payload: Any, error: type[Exception]) -> None:
    token = raw_token(header, payload)
    with pytest.raises(error):
        verify(token, policy(max_length=10**7), NOW)


@pytest.mark.parametrize("header", [
    pytest.param(b'{"alg":[]}', id="alg-list"),
    pytest.param(b'{"alg":{}}', id="alg-object"),
    pytest.param(b'{"alg":"HS256","kid":[]}', id="kid-list"),
    pytest.param(b'{"alg":"HS256","typ":{}}', id="typ-object"),
    pytest.param(b"not json", id="not-json"),
])
@pytest.mark.parametrize("signature", ["AAAA", "A" * 43, "A" * 86], ids=["short", "fits", "long"])
def test_a_header_of_the_wrong_types_is_refused_whatever_the_signature_length(
    header: bytes, signature: str
) -> None:
    """Issue 22 (1): a non-string alg with a signature fitting no key raised TypeError (a 500
    through every placement and the session cookie); a header that is not JSON is malformed,
    not "algorithm not allowed"."""
    token = b64encode(header) + "." + b64encode(json.dumps(good()).encode()) + "." + signature
    bad_alg = b'"alg":[' in header or b'"alg":{' in header
    expected = errors.InvalidAlgorithm if bad_alg else errors.InvalidToken
    with pytest.raises(errors.InvalidToken) as raised:
        verify(token, policy(), NOW)
    assert type(raised.value) is expected


@pytest.mark.slow
def test_the_header_cache_is_safe_across_threads() -> None:
    """Issue 22 (3): evicting the header cache while other threads read it raised
    ``RuntimeError: dictionary changed size during iteration`` (a 500 under a threaded server).
    The race is rare: 40,000 forged headers from 8 threads switching every 10 us hit the old
    cache about once a run; the cache must stay bounded and never raise."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from sso_middleware import tokens

    def forged(n: int) -> str:  # a distinct header each time: every call evicts one
        return raw_token({**HDR, "kid": f"k{n}"}, good())

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda n: _outcome(forged(n)), range(40_000)))
    finally:
        sys.setswitchinterval(interval)
    assert set(outcomes) == {"UnknownKey"}
    assert tokens._header.cache_info().currsize <= 128  # bounded: forged headers cannot grow it


def _outcome(token: str) -> str:
    try:
        verify(token, policy(), NOW)
    except errors.InvalidToken as e:
        return type(e).__name__
    return "ok"


def test_signature_checked_before_claims() -> None:
    token = raw_token(HDR, {**good(), "exp": "garbage"}, key="another-key-of-at-least-32-bytes!!")
    with pytest.raises(errors.InvalidSignature):
        verify(token, policy(), NOW)


def test_wrong_key() -> None:
    with pytest.raises(errors.InvalidSignature):
        verify(sign(good(), Key("another-key-of-at-least-32-bytes!!")), policy(), NOW)


def test_tampered_payload() -> None:
    other = b64encode(json.dumps({**good(), "sub": "8"}).encode())
    with pytest.raises(errors.InvalidSignature):
        verify(f"{H}.{other}.{S}", policy(), NOW)


def test_max_age_accepts_iat_only_tokens_while_young() -> None:
    claims = {"sub": "7", "iat": NOW}
    p = policy(max_age=300, leeway=0)
    assert verify(sign(claims, Key(KEY)), p, NOW + 299).claims["sub"] == "7"
    with pytest.raises(errors.TokenExpired):
        verify(sign(claims, Key(KEY)), p, NOW + 301)


def test_leeway_is_honoured() -> None:
    # valid strictly before exp + leeway (RFC 7519 4.1.4; PyJWT draws the same line)
    token = sign({**good(), "exp": NOW}, Key(KEY))
    assert verify(token, policy(leeway=10), NOW + 9.999)
    with pytest.raises(errors.TokenExpired):
        verify(token, policy(leeway=10), NOW + 10)


def test_issuer_audience_typ_when_configured() -> None:
    key = Key(KEY)
    token = sign(good(iss="app-a", aud="app-b"), key)
    assert verify(token, policy(issuer=("app-a",), audience="app-b", typ="jwt"), NOW)
    with pytest.raises(errors.InvalidClaim, match="iss"):
        verify(token, policy(issuer=("app-x",), audience="app-b"), NOW)
    with pytest.raises(errors.InvalidClaim, match="aud"):
        verify(token, policy(audience="app-c"), NOW)
    with pytest.raises(errors.MissingTokenClaim, match="aud"):
        verify(sign(good(), key), policy(audience="app-b"), NOW)
    with pytest.raises(errors.InvalidClaim, match="typ"):
        verify(sign(good(), key, typ=None), policy(typ="JWT"), NOW)
    token = sign(good(aud=["x", "app-b"]), key)
    assert verify(token, policy(audience="app-b"), NOW)


def test_required_claims() -> None:
    with pytest.raises(errors.MissingTokenClaim) as e:
        verify(sign(good(email=""), Key(KEY)), policy(required=("email",)), NOW)
    assert e.value.claim == "email"


def test_error_messages_never_contain_the_token() -> None:
    for case in [*FORMAT_CASES, pytest.param(raw_token(HDR, {"exp": "x"}))]:
        token = case.values[0]
        try:
            verify(token, policy(), NOW)
        except errors.SSOError as e:
            assert token[:20] not in str(e) or not token


@pytest.mark.parametrize("depth", [31, 32, 33, 900, 2_500])
def test_json_nesting_is_bounded_the_same_on_every_python(depth: int) -> None:
    """A validly signed token nesting deeper than 32 is refused, whatever the Python version."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    header = b64encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64encode(f'{{"sub":"x","exp":{NOW + 60},"x":{inner}}}'.encode())
    token = f"{header}.{payload}.{b64encode(Key(KEY).sign(f'{header}.{payload}'.encode()))}"
    if depth <= 32:
        assert verify(token, policy(), NOW).claims["sub"] == "x"
    else:
        with pytest.raises(errors.InvalidToken):
            verify(token, policy(), NOW)


@pytest.mark.parametrize(("header", "payload", "error"), CLAIM_CASES)
@pytest.mark.parametrize("options", [{}, {"issuer": ("app",), "typ": "JWT"}, {"max_age": 60},
                                     {"max_length": 200}], ids=["plain", "iss-typ", "max-age", "short"])
def test_explain_walks_the_same_checks_and_agrees_with_verify(header: Any, payload: Any, error: Any,
                                                             options: dict[str, Any]) -> None:
    """Issue 24: explain walks verify's own tables (TOKEN_GATES, CLAIM_CHECKS); the first step it
    marks failed carries the very code verify refuses with, and a token verify accepts has none."""
    from sso_middleware.explain import explain

    the_policy = policy(**{"max_length": 10**7, **options})
    for token in (raw_token(header, payload), raw_token(HDR, good()), raw_token(HDR, good(), key="k" * 40)):
        try:
            verify(token, the_policy, NOW)
            expected = None
        except errors.InvalidToken as e:
            expected = e.code
        report = explain(token, the_policy, NOW)
        first = next((s.code for s in report.steps if s.ok is False), None)
        assert (first, None if report.error is None else report.error.code) == (expected, expected)


def test_own_tokens_take_only_a_key_of_their_policy() -> None:
    """The header an ``OwnTokens`` skips the gates for is its key's: a key outside the policy
    would let its tokens past the key gate."""
    with pytest.raises(errors.ConfigurationError, match="one of the policy's keys"):
        OwnTokens(Key("another-secret-of-at-least-32-bytes!!"), policy(), typ="JWT")


@pytest.mark.parametrize("claims", [good(), good(exp=NOW - 60), good(sub=""), good(iat="soon")],
                         ids=["good", "expired", "no-subject", "string-iat"])
def test_own_tokens_answer_as_verify_does_for_a_key_pair(claims: dict[str, Any]) -> None:
    """A key pair has no shared header shortcut: every token goes through ``verify``."""
    key = Key.generate("EdDSA")
    rules = TokenPolicy(KeySet([key]), identity=("sub",))
    token = sign(claims, key)
    try:
        expected: Any = verify(token, rules, NOW)
        expected = (expected.subject, expected.claims)
    except errors.InvalidToken as e:
        expected = type(e)
    try:
        found: Any = OwnTokens(key, rules, typ="JWT").read(token, NOW)
    except errors.InvalidToken as e:
        found = type(e)
    assert found == expected


def test_own_tokens_refuse_a_policy_that_refuses_their_header() -> None:
    key = Key(KEY)
    with pytest.raises(errors.ConfigurationError, match="refuses the tokens"):
        OwnTokens(key, TokenPolicy(KeySet([key]), typ="JWT"), typ="other")


def test_own_tokens_read_what_verify_reads_when_the_policy_holds_more_keys() -> None:
    """Key rotation: the header of two secrets without ``kid`` is the same; a token of the older
    key is still the policy's, and the refusals are verify's own."""
    new, old = Key(KEY), Key("an-older-secret-of-at-least-32-bytes")
    rules = TokenPolicy(KeySet([new, old]), identity=("sub",))
    own = OwnTokens(new, rules, typ="JWT")
    assert own.read(sign(good(), old), NOW)[0] == "7"
    for token in (None, b"a.b.c", "x" * 9000, sign(good(), Key("a-third-secret-of-at-least-32-bytes!"))):
        with pytest.raises(errors.InvalidToken) as found:
            own.read(token, NOW)
        with pytest.raises(type(found.value)):
            verify(token, rules, NOW)
