"""A token's verification, step by step, in words: what ``sso-middleware verify --explain`` prints.

The verdict is :func:`~sso_middleware.tokens.verify`'s own; the steps show each check with the
values it compared, so ``token_expired`` reads "exp was 14:02:11 UTC, now 14:09:40 UTC (leeway
30 s)". The claim checks are the verifier's own functions (``tokens.CLAIM_CHECKS``), run one at a
time. Nothing here touches a replay store: one-time use is not checked offline.

>>> from sso_middleware import Key
>>> from sso_middleware.keys import KeySet
>>> from sso_middleware.tokens import TokenPolicy, sign
>>> keys = KeySet([Key("a-secret-of-at-least-thirty-two-bytes!")])
>>> token = sign({"sub": "ada", "exp": 1_000_300}, keys.signing)
>>> report = explain(token, TokenPolicy(keys), now=1_000_000)
>>> report.error is None, [step.name for step in report.steps if step.ok is False]
(True, [])
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidToken
from .tokens import CLAIM_CHECKS, TokenPolicy, check_header, peek, verify


@dataclass(frozen=True, slots=True)
class Step:
    """One check: its name, whether it passed (``None``: not checked), and why, in words."""

    name: str
    ok: bool | None
    detail: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Every step, the header and claims as read (unverified when ``error`` is set), the verdict."""

    steps: list[Step]
    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    error: InvalidToken | None


OUT_OF_RANGE = "out of range"


def stamp(seconds: float) -> str:
    """A numeric date as a person reads it: ``2026-12-06 14:02:11 UTC``; ``out of range`` for
    one no calendar here can show (a hostile ``exp`` of ``1e300``).

    >>> stamp(0), stamp(1e300)
    ('1970-01-01 00:00:00 UTC', 'out of range')
    """
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return OUT_OF_RANGE


def when(seconds: float, now: float) -> str:
    """``2026-12-06 14:02:11 UTC (7 min ago)``: a numeric date for a person.

    >>> when(1_000_000 - 420, 1_000_000), when(-1e300, 0)
    ('1970-01-12 13:39:40 UTC (7 min ago)', 'out of range')
    """
    shown = stamp(seconds)
    return shown if shown == OUT_OF_RANGE else f"{shown} ({ago(seconds - now)})"


def ago(seconds: float) -> str:
    """``seconds`` from now in words, rounded: "in 5 min", "12 s ago" (the demo and the CLI).

    >>> ago(300), ago(-12), ago(7200), ago(-3 * 86400)
    ('in 5 min', '12 s ago', 'in 2 h', '3 d ago')
    """
    size = abs(seconds)
    words = (f"{size:.0f} s" if size < 90 else f"{size / 60:.0f} min" if size < 5400
             else f"{size / 3600:.0f} h" if size < 129600 else f"{size / 86400:.0f} d")
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def number(claims: Mapping[str, Any], name: str) -> float | None:
    """A claim's numeric date as a float (an integer too large for one is infinite, so shown as
    out of range); ``None`` when it is no number.

    >>> number({"exp": 2**1100}, "exp"), number({"exp": "soon"}, "exp")
    (inf, None)
    """
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _shown(claims: Mapping[str, Any], name: str) -> str:
    return f"{name} {claims[name]!r}" if name in claims else f"no {name}"


def _claim_detail(name: str, claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    """What the check named ``name`` compared, in words."""
    leeway = f"leeway {policy.leeway:g} s"
    if name in ("iat", "nbf"):
        value = number(claims, name)
        return "absent" if name not in claims else (
            f"{name} {when(value, now)}, {leeway}" if value is not None else f"{name} is not a number")
    if name == "exp":
        exp, iat = number(claims, "exp"), number(claims, "iat")
        if exp is not None:
            return f"exp {when(exp, now)}, now {stamp(now)}, {leeway}"
        if policy.max_age is not None and iat is not None:
            return f"no exp: valid {policy.max_age:g} s from iat, until {when(iat + policy.max_age, now)}"
        if policy.expiry_optional:
            return "no exp: accepted, as the service accepts tokens that never expire"
        return "no exp" if "exp" not in claims else "exp is not a number"
    if name == "iss":
        accepted = "any" if policy.issuer is None else ", ".join(map(repr, policy.issuer))
        return f"{_shown(claims, 'iss')}; accepted: {accepted}"
    if name == "aud":
        required = "none (a token naming an audience is refused)" if policy.audience is None \
            else repr(policy.audience)
        return f"{_shown(claims, 'aud')}; required: {required}"
    if name == "jti":
        return "jti present (one-time use is checked by the receiver, not offline)" if "jti" in claims \
            else "no jti (the receiver keys one-time use on a digest of the claims)"
    if name == "required":
        return "required: " + (", ".join(policy.required) or "nothing beyond the above")
    wanted = " or ".join(policy.identity) or "none"
    found = next((f"{n}={claims[n]!r}" for n in policy.identity if claims.get(n) not in (None, "")), "none")
    return f"the user is named by {wanted}: {found}"


def explain(token: str, policy: TokenPolicy, now: float) -> Report:
    """Verify ``token`` as a receiver with ``policy`` would at ``now``, and say what each check saw."""
    error: InvalidToken | None = None
    try:
        verify(token, policy, now)
    except InvalidToken as e:
        error = e
    parts = peek(token)
    steps = [Step("format", parts is not None,
                  "three base64url segments of JSON objects" if parts is not None
                  else "not a compact JWS (three base64url segments of strict JSON objects)",
                  None if parts is not None else "token_invalid")]
    if parts is None:
        return Report(steps, None, None, error)
    header, claims = parts
    try:
        check_header(header)
    except InvalidToken as e:
        steps.append(Step("header", False, "alg, kid, typ and cty must be strings, and no JWS extension "
                          "(crit, b64) is understood", e.code))
        return Report(steps, header, claims, error)
    alg, kid = header.get("alg"), header.get("kid")
    accepted = ", ".join(sorted(policy.algorithms or ()))
    steps.append(Step("algorithm", alg in (policy.algorithms or ()), f"alg {alg!r}; accepted: {accepted}",
                      None if alg in (policy.algorithms or ()) else "token_algorithm_not_allowed"))
    known = bool(policy.keys.candidates(kid))
    steps.append(Step("key", known, "no kid: every configured key is tried" if kid is None
                      else f"kid {kid!r} {'is' if known else 'is not'} a configured key",
                      None if known else "token_unknown_key"))
    if policy.typ is not None:
        typ = header.get("typ")
        fits = isinstance(typ, str) and typ.lower() == policy.typ.lower()
        steps.append(Step("typ", fits, f"typ {typ!r}; required: {policy.typ!r}",
                          None if fits else "token_invalid_claim"))
    checked: list[Step] = []
    for name, check in CLAIM_CHECKS:
        detail = _claim_detail(name, claims, policy, now)
        try:
            check(claims, policy, now)
        except InvalidToken as e:
            checked.append(Step(name, False, detail, e.code))
        else:
            checked.append(Step(name, True, detail))
    # verify() checks the signature before any claim: its error is a claim's only if the signature held
    earlier = all(step.ok for step in steps)
    signed = error is None or (earlier and error.code in {s.code for s in checked if s.ok is False})
    if signed:
        steps.append(Step("signature", True, "matches the key"))
    elif earlier and error is not None:
        steps.append(Step("signature", False, "does not verify with the key given (another key, or the "
                          "token was altered after signing)", error.code))
    else:
        steps.append(Step("signature", None, "not checked: an earlier step failed"))
    steps.extend(checked)
    return Report(steps, header, claims, error)


__all__ = ["OUT_OF_RANGE", "Report", "Step", "ago", "explain", "number", "stamp", "when"]
