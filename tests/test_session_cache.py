"""The session cache's bound and order, and the cache-miss path (issue 28): a cookie the cache
does not hold is judged exactly as ``tokens.verify`` judges it under the session policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from helpers import KEY
from hypothesis import given, settings
from hypothesis import strategies as st

from sso_middleware.errors import ConfigurationError, InvalidToken
from sso_middleware.keys import Key
from sso_middleware.principal import Principal
from sso_middleware.session import CACHE_SIZE, Sessions
from sso_middleware.tokens import sign, verify

NOW = 1_800_000_000.0
SESSION_KEY = "session-test-key-0123456789-abcdefghijklm"


def _cookie(sessions: Sessions, user_id: object, now: float = NOW) -> str:
    return sessions.open(Principal(user_id, "ada@example.com", "Ada"), "svc", now, False).split(";")[0]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


HEADER = b'{"alg":"HS256","typ":"sso-session"}'


def _token(payload: bytes, key: str = SESSION_KEY, header: bytes = HEADER) -> str:
    """A token over raw payload bytes (duplicates, NaN, nesting: what ``sign`` cannot write)."""
    signing_input = _b64(header) + "." + _b64(payload)
    mac = hmac.digest(key.encode(), signing_input.encode(), hashlib.sha256)
    return signing_input + "." + _b64(mac)


def _segments(header: str, payload: str, key: str = SESSION_KEY) -> str:
    """A token whose HMAC is good over any segment text (what no encoder writes: other
    characters, padding, a non-canonical last character)."""
    signing_input = header + "." + payload
    return signing_input + "." + _b64(hmac.digest(key.encode(), signing_input.encode(), hashlib.sha256))


def _general(sessions: Sessions, value: str, now: float) -> Any:
    """What ``tokens.verify`` makes of ``value`` under the session policy, as ``read`` answers it."""
    try:
        verified = verify(value, sessions.policy, now)
    except InvalidToken:
        return "refused"
    if now >= verified.claims["exp"]:
        return "refused"
    return Principal.from_claims(verified.subject, verified.claims)


def _read(sessions: Sessions, value: str, now: float) -> Any:
    session, sent = Sessions(sessions.key).read(f"sso_session={value}", now, lambda p: p)
    if session is None:
        return "refused" if sent else "not sent"
    return session.view


def _same(sessions: Sessions, value: str, now: float = NOW + 1) -> None:
    general, read = _general(sessions, value, now), _read(sessions, value, now)
    assert read == general
    if general != "refused":
        assert type(read.id) is type(general.id)


def test_the_default_bound_holds_a_working_set() -> None:
    assert Sessions(Key(KEY))._cache_size == CACHE_SIZE >= 16_384


@pytest.mark.parametrize("size", [0, -1, True, 1.5, "10"])
def test_a_bound_that_is_no_positive_whole_number_is_refused(size: Any) -> None:
    with pytest.raises(ConfigurationError, match="cache_size"):
        Sessions(Key(KEY), cache_size=size)


def test_the_least_recently_used_session_leaves_first() -> None:
    sessions = Sessions(Key(KEY), cache_size=3)
    a, b, c, d = (_cookie(sessions, i) for i in range(4))
    for header in (a, b, c, a):  # a is used again: b is now the least recent
        assert sessions.read(header, NOW, lambda p: p)[0] is not None
    assert sessions.read(d, NOW, lambda p: p)[0] is not None
    cache = sessions._caches[False]
    assert len(cache) == 3 and b not in cache and a in cache and list(cache) == [c, a, d]


def test_the_bound_holds_whatever_the_number_of_sessions() -> None:
    sessions = Sessions(Key(KEY), cache_size=5)
    headers = [_cookie(sessions, i) for i in range(40)]
    for _ in range(2):
        for i, header in enumerate(headers):
            session, sent = sessions.read(header, NOW, lambda p: p)
            assert sent and session is not None and session.view.id == i
            assert len(sessions._caches[False]) <= 5


def test_an_evicted_session_reads_back_the_same_and_still_expires() -> None:
    sessions = Sessions(Key(KEY), cache_size=1, max_age=100)
    first, second = _cookie(sessions, "ada"), _cookie(sessions, "bob")
    before, _ = sessions.read(first, NOW + 1, lambda p: p)
    sessions.read(second, NOW + 1, lambda p: p)  # evicts the first
    assert first not in sessions._caches[False]
    again, sent = sessions.read(first, NOW + 2, lambda p: p)
    assert sent and again is not None and before is not None
    assert (again.view, again.user, again.sid, again.opened, again.expires, again.source) == (
        before.view, before.user, before.sid, before.opened, before.expires, before.source)
    sessions.read(second, NOW + 2, lambda p: p)  # evicts it again: the next read checks in full
    assert sessions.read(first, NOW + 100, lambda p: p) == (None, True)


def test_a_cached_session_and_a_checked_one_are_told_apart_by_scheme_alike() -> None:
    sessions = Sessions(Key(KEY), cache_size=1)
    plain = _cookie(sessions, 7)
    assert sessions.read(plain, NOW, lambda p: p, True) == (None, False)  # http's cookie, on https
    assert sessions.read(plain, NOW, lambda p: p, False)[0] is not None
    assert sessions.read(plain, NOW, lambda p: p, True) == (None, False)


def test_two_different_cookies_of_our_name_are_neither_trusted_on_a_miss() -> None:
    sessions = Sessions(Key(KEY), cache_size=1)
    a, b = _cookie(sessions, 1), _cookie(sessions, 2)
    assert sessions.read(f"{a}; {b}", NOW, lambda p: p) == (None, False)
    assert sessions.read(f"{a}; {a}", NOW, lambda p: p)[0] is not None  # the same one twice


def _session_token(claims: dict[str, Any]) -> str:
    return sign(claims, Key(SESSION_KEY), typ="sso-session")


GOOD = {"sub": 7, "svc": "svc", "email": "ada@example.com", "name": "Ada", "sid": "s" * 22,
        "iat": NOW, "exp": int(NOW) + 3600}


@pytest.mark.parametrize("claims", [
    pytest.param(GOOD, id="as-opened"),
    pytest.param({**GOOD, "sub": "ada"}, id="string-sub"),
    pytest.param({**GOOD, "src": "digest"}, id="with-source"),
    pytest.param({k: v for k, v in GOOD.items() if k not in ("email", "name")}, id="no-email-or-name"),
    pytest.param({**GOOD, "exp": NOW - 1}, id="expired"),
    pytest.param({**GOOD, "exp": NOW + 1}, id="expires-within-the-leeway"),
    pytest.param({**GOOD, "iat": NOW + 7}, id="iat-ahead-beyond-the-leeway"),
    pytest.param({**GOOD, "iat": NOW + 4}, id="iat-ahead-within-the-leeway"),
    pytest.param({**GOOD, "exp": int(NOW) + 8 * 3600 + 10}, id="too-long"),
    pytest.param({**GOOD, "iat": NOW - 8 * 3600 - 10}, id="iat-too-far-before-exp"),
    pytest.param({**GOOD, "sub": True}, id="bool-sub"),
    pytest.param({**GOOD, "sub": 1.5}, id="float-sub"),
    pytest.param({**GOOD, "sub": ""}, id="empty-sub"),
    pytest.param({**GOOD, "sub": "a" * 513}, id="long-sub"),
    pytest.param({**GOOD, "sub": "a\nb"}, id="unprintable-sub"),
    pytest.param({**GOOD, "sub": 2**64}, id="huge-sub"),
    pytest.param({**GOOD, "sub": [7]}, id="list-sub"),
    pytest.param({**GOOD, "sid": ""}, id="empty-sid"),
    pytest.param({**GOOD, "sid": 5}, id="number-sid"),
    pytest.param({k: v for k, v in GOOD.items() if k != "sid"}, id="no-sid"),
    pytest.param({k: v for k, v in GOOD.items() if k != "iat"}, id="no-iat"),
    pytest.param({k: v for k, v in GOOD.items() if k != "exp"}, id="no-exp"),
    pytest.param({**GOOD, "iat": "1800000000"}, id="string-iat"),
    pytest.param({**GOOD, "exp": True}, id="bool-exp"),
    pytest.param({**GOOD, "exp": 10**400}, id="overflowing-exp"),
    pytest.param({**GOOD, "nbf": NOW + 60}, id="nbf-ahead"),
    pytest.param({**GOOD, "nbf": NOW - 60}, id="nbf-passed"),
    pytest.param({**GOOD, "aud": "someone"}, id="with-aud"),
    pytest.param({**GOOD, "jti": 5}, id="bad-jti"),
    pytest.param({**GOOD, "jti": "j"}, id="good-jti"),
    pytest.param({**GOOD, "iss": "anyone"}, id="with-iss"),
    pytest.param({**GOOD, "id": [1]}, id="bad-id"),
    pytest.param({**GOOD, "name": {"first": "Ada"}}, id="nested-name"),
    pytest.param({**GOOD, "svc": 5}, id="number-svc"),
])
def test_a_miss_judges_claims_as_the_claim_table_does(claims: dict[str, Any]) -> None:
    _same(Sessions(Key(SESSION_KEY)), _session_token(claims))


def _json(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, separators=(",", ":")).encode()


@pytest.mark.parametrize("token", [
    pytest.param(_token(_json(GOOD)), id="hand-made"),
    pytest.param(_token(_json(GOOD)[:-1] + b',"sub":8}'), id="duplicate-name"),
    pytest.param(_token(_json(GOOD)[:-1] + b',"x":NaN}'), id="nan"),
    pytest.param(_token(b" " + _json(GOOD)), id="leading-space"),
    pytest.param(_token(_json(GOOD) + b" "), id="trailing-space"),
    pytest.param(_token(_json(GOOD) + b"{}"), id="trailing-data"),
    pytest.param(_token(_json({**GOOD, "name": "Ad\u00e1"})), id="utf-8"),
    pytest.param(_token(_json(GOOD).decode().encode("utf-16")), id="utf-16"),
    pytest.param(_token(b"[" * 40 + b"]" * 40), id="array"),
    pytest.param(_token(_json({**GOOD, "x": json.loads("[" * 40 + "]" * 40)})), id="too-deep"),
    pytest.param(_token(_json({**GOOD, "x": json.loads("[" * 20 + "]" * 20)})), id="deep-enough"),
    pytest.param(_token(_json(GOOD), key="another-session-key-0123456789-abcdefgh"), id="other-key"),
    pytest.param(_token(_json(GOOD), header=b'{"alg":"HS256","typ":"JWT"}'), id="other-typ"),
    pytest.param(_token(_json(GOOD), header=b'{"typ":"sso-session","alg":"HS256"}'), id="other-header-order"),
    pytest.param(_token(_json(GOOD), header=b'{"alg":"HS256","typ":"SSO-SESSION"}'), id="typ-in-capitals"),
    pytest.param(_token(_json(GOOD), header=b'{"alg":"none","typ":"sso-session"}'), id="alg-none"),
    pytest.param(_token(_json(GOOD))[:-1] + "B", id="non-canonical-signature"),
    pytest.param(_token(_json(GOOD)) + "=", id="padded-signature"),
    pytest.param(_token(_json(GOOD)) + "AA", id="long-signature"),
    pytest.param(_token(_json(GOOD))[:-2], id="short-signature"),
    pytest.param(_token(_json(GOOD)).replace(".", ".+", 1), id="plus-in-payload"),
    pytest.param(_token(_json(GOOD)) + ".x", id="four-segments"),
    pytest.param(_token(_json(GOOD))[:-3] + "\u00e9" + _token(_json(GOOD))[-2:], id="latin-1-in-signature"),
    pytest.param(_token(_json(GOOD)).replace("-", "+").replace("_", "/"), id="standard-alphabet"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD)) + "="), id="padded-payload-good-mac"),
    # four at once: the length modulo 4 (what padding is added) stays what it was
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:8] + "+/+/" + _b64(_json(GOOD))[8:]),
                 id="standard-alphabet-in-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:8] + "!!!!" + _b64(_json(GOOD))[8:]),
                 id="bang-in-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:8] + "...." + _b64(_json(GOOD))[8:]),
                 id="dots-in-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:8] + " \t\r\n" + _b64(_json(GOOD))[8:]),
                 id="whitespace-in-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:8] + "\u00e9" + _b64(_json(GOOD))[8:]),
                 id="latin-1-in-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD))[:-1] + "B"), id="non-canonical-payload-good-mac"),
    pytest.param(_segments(_b64(HEADER), _b64(_json(GOOD)) + "A"), id="payload-of-4n+1-good-mac"),
    pytest.param(_segments(_b64(HEADER), ""), id="empty-payload-good-mac"),
    pytest.param(_token(_json({**GOOD, "exp": 2**53 + 1})), id="exp-beyond-exact-floats"),
    pytest.param(_token(_json({**GOOD, "iat": 2**53})), id="iat-at-the-edge-of-exact-floats"),
    pytest.param(_token(_json({**GOOD, "name": "{"})), id="brace-in-a-string"),
    pytest.param(_token(b"\n" + _json(GOOD) + b"\t"), id="whitespace-both-sides"),
])
def test_a_miss_judges_the_token_as_verify_does(token: str) -> None:
    _same(Sessions(Key(SESSION_KEY)), token)


def test_a_payload_that_is_not_the_key_holders_is_refused_at_once() -> None:
    good = _token(_json(GOOD))
    header, _, signature = good.split(".")
    forged = f"{header}.{_b64(_json({**GOOD, 'sub': 8}))}.{signature}"
    assert _read(Sessions(Key(SESSION_KEY)), forged, NOW + 1) == "refused"
    assert _read(Sessions(Key(SESSION_KEY)), good, NOW + 1).id == 7


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
_CHANGES = st.dictionaries(
    st.sampled_from(["sub", "sid", "iat", "exp", "svc", "email", "name", "src", "nbf", "aud", "jti", "iss",
                     "id", "x"]), _VALUES, max_size=2)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    sub=st.one_of(st.integers(min_value=-(2**64), max_value=2**64 + 5), st.text(max_size=6)),
    sid=st.text(max_size=4), iat=st.floats(min_value=NOW - 100, max_value=NOW + 10),
    lifetime=st.integers(min_value=-10, max_value=8 * 3600 + 10),
    opened=st.dictionaries(st.sampled_from(["svc", "email", "name", "src"]), st.text(max_size=4), max_size=4),
    changes=_CHANGES, drop=st.sets(st.sampled_from(["sub", "sid", "iat", "exp"]), max_size=1),
    now=st.floats(min_value=NOW - 60, max_value=NOW + 60),
)
def test_a_miss_agrees_with_verify_on_any_claims(
    sub: Any, sid: str, iat: float, lifetime: int, opened: dict[str, str], changes: dict[str, Any],
    drop: set[str], now: float,
) -> None:
    """Claims near what ``open`` writes, a few changed to anything JSON holds or left out."""
    claims = {"sub": sub, "sid": sid, "iat": iat, "exp": int(iat) + lifetime, **opened, **changes}
    for name in drop:
        del claims[name]
    _same(Sessions(Key(SESSION_KEY)), _session_token(claims), now)
