"""Our verifier against PyJWT's own decode: the same decision on thousands of good and bad tokens.

PyJWT is configured to be as strict as it can be (exp required, HS256 only, same leeway); the only
differences allowed are the checks PyJWT does not make at all (SECURITY.md), listed in STRICTER.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

import jwt as pyjwt
import pytest

from sso_middleware import errors
from sso_middleware.keys import Key, KeySet
from sso_middleware.tokens import TokenPolicy, b64encode, sign, verify

KEY = "differential-key-0123456789-abcdefghijklmn"
OTHER = "differential-other-key-0123456789-abcdefgh"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def pyjwt_accepts(token: str, now: float) -> dict[str, Any] | None:
    try:
        return pyjwt.decode(
            token, KEY, algorithms=["HS256"], leeway=30,
            options={"require": ["exp"], "verify_sub": False, "verify_jti": False},
        )
    except (pyjwt.InvalidTokenError, ValueError, TypeError, OverflowError, RecursionError):
        return None


def ours_accepts(token: str, policy: TokenPolicy, now: float) -> dict[str, Any] | None:
    try:
        return verify(token, policy, now).claims
    except errors.InvalidToken:
        return None


def corpus(rng: random.Random, now: int) -> list[str]:
    key, other = Key(KEY), Key(OTHER)
    tokens: list[str] = []
    for i in range(300):
        claims: dict[str, Any] = {
            "sub": rng.choice([str(i), i, f"user-{i}@example.com"]),
            "name": rng.choice(["Ada", "Grace Hopper", "Zoë", "李"]),
            "iat": now - rng.randint(0, 100),
            "exp": now + rng.randint(-400, 600),
            "jti": f"j{i}",
        }
        if rng.random() < 0.2:
            claims["nbf"] = now + rng.randint(-100, 100)
        good = sign(claims, key)
        tokens.append(good)
        tokens.append(sign(claims, other))  # wrong key
        for _ in range(8):  # random damage
            chars = list(good)
            op = rng.random()
            pos = rng.randrange(len(chars))
            if op < 0.5:
                chars[pos] = rng.choice(ALPHABET + ".=+/ ")
            elif op < 0.75:
                del chars[pos]
            else:
                chars.insert(pos, rng.choice(ALPHABET + "."))
            tokens.append("".join(chars))
    # header games: alg none / HS512 / missing alg, signed or not
    for header in ({"alg": "none"}, {"alg": "HS512", "typ": "JWT"}, {"typ": "JWT"}, {"alg": "hs256"}):
        h = b64encode(json.dumps(header).encode())
        p = b64encode(json.dumps({"sub": "x", "exp": now + 60}).encode())
        tokens += [f"{h}.{p}.", f"{h}.{p}.{good.split('.')[2]}"]
    return tokens


STRICTER = {
    "token_lifetime_too_long",  # PyJWT has no maximum lifetime
}


NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def pyjwt_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyJWT reads the wall clock; give it the same fixed time ours gets (no mixed clocks)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(NOW, tz=timezone.utc)

    monkeypatch.setattr("jwt.api_jwt.datetime", Frozen)


def test_the_expiry_boundary_is_the_same_as_pyjwt() -> None:
    policy = TokenPolicy(KeySet([Key(KEY)]), leeway=30)
    for exp, accepted in ((NOW - 29, True), (NOW - 30, False), (NOW - 31, False)):
        token = sign({"sub": "x", "exp": exp}, Key(KEY))
        assert (ours_accepts(token, policy, NOW) is not None) is accepted
        assert (pyjwt_accepts(token, NOW) is not None) is accepted


def test_same_decision_as_pyjwt_on_good_and_bad_tokens() -> None:
    rng = random.Random(20261123)
    now = NOW
    policy = TokenPolicy(KeySet([Key(KEY)]), leeway=30)
    tokens = corpus(rng, now)
    accepted = disagreements = 0
    for token in tokens:
        ours, theirs = ours_accepts(token, policy, now), pyjwt_accepts(token, now)
        if ours is not None:
            accepted += 1
            assert theirs == ours, token
        elif theirs is not None:
            with pytest.raises(errors.InvalidToken) as e:
                verify(token, policy, now)
            assert e.value.code in STRICTER, (token, e.value.code)
            disagreements += 1
    assert len(tokens) > 3000
    assert 100 < accepted < len(tokens) / 2  # the corpus really mixes good and bad
    assert disagreements == 0


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"sub": "x", "exp": 2**40}, "token_lifetime_too_long"),
        ({"sub": "x"}, "token_missing_claim"),
    ],
)
def test_where_we_are_stricter_than_naive_decode(claims: dict[str, Any], code: str) -> None:
    token = sign(claims, Key(KEY))
    assert pyjwt.decode(token, KEY, algorithms=["HS256"])  # the vendors' one-liner accepts it
    with pytest.raises(errors.InvalidToken) as e:
        verify(token, TokenPolicy(KeySet([Key(KEY)])), NOW)
    assert e.value.code == code
