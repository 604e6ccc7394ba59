"""A token's verification, step by step, in words: what ``sso-middleware verify --explain`` prints.

The verdict is :func:`~sso_middleware.tokens.verify`'s own. The steps walk the same tables that
``verify`` walks (``tokens.TOKEN_GATES``, then ``tokens.CLAIM_CHECKS``), running each check and
adding the words that sit beside it, so ``token_expired`` reads "exp was 14:02:11 UTC, now
14:09:40 UTC (leeway 30 s)". Nothing here touches a replay store: one-time use is not checked
offline.

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

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..dates import OUT_OF_RANGE, ago, number, stamp, when
from ..errors import InvalidToken
from ..tokens import CLAIM_CHECKS, TOKEN_GATES, TokenPolicy, looks_like_token, peek, split, verify


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


_FORMAT = "three base64url segments of JSON objects"
_HEADER = "alg, kid, typ and cty are strings, and no JWS extension (crit, b64) is used"


def explain(token: str, policy: TokenPolicy, now: float) -> Report:
    """Verify ``token`` as a receiver with ``policy`` would at ``now``, and say what each check saw.

    The gates stop at the first that fails, as :func:`verify` does; the claim checks are shown
    in any case, on the claims as read (trusted only when the signature held).
    """
    error: InvalidToken | None = None
    try:
        verify(token, policy, now)
    except InvalidToken as e:
        error = e
    header, claims = peek(token) or (None, None)  # what a person is shown, trusted or not
    try:
        cut = split(token, policy)
    except InvalidToken as e:
        return Report([_format_failure(token, policy, e)], header, claims, error)
    steps = [Step("format", True, _FORMAT), Step("header", True, _HEADER)]
    failed = False
    for gate in TOKEN_GATES:
        if failed:
            steps.append(Step(gate.name, None, "not checked: an earlier step failed"))
        else:
            steps.append(_step(gate.name, partial(gate.check, cut, policy), gate.explain(cut, policy)))
            failed = steps[-1].ok is False
    if claims is None:
        if not failed:
            steps.append(Step("claims", False, "not a strict JSON object (UTF-8, no duplicate names)",
                              "token_invalid"))
        return Report(steps, header, claims, error)
    for check in CLAIM_CHECKS:
        steps.append(_step(check.name, partial(check.check, claims, policy, now),
                           check.explain(claims, policy, now)))
    return Report(steps, header, claims, error)


def _step(name: str, check: Callable[[], object], detail: str) -> Step:
    try:
        check()
    except InvalidToken as e:
        return Step(name, False, detail, e.code)
    return Step(name, True, detail)


def _format_failure(token: str, policy: TokenPolicy, error: InvalidToken) -> Step:
    """The first step, failed: too long, not a compact JWS, or a header of the wrong types."""
    if error.code == "token_too_large":
        return Step("format", False, f"longer than {policy.max_length} characters", error.code)
    if looks_like_token(token):
        return Step("header", False, f"not strict JSON, or not {_HEADER}", error.code)
    return Step("format", False, f"not a compact JWS ({_FORMAT})", error.code)


__all__ = ["OUT_OF_RANGE", "Report", "Step", "ago", "explain", "number", "stamp", "when"]
