"""Sign and verify compact JWS tokens on PyJWT's algorithm objects.

PyJWT's algorithms (HMAC, and RSA, ECDSA and EdDSA with its ``crypto`` extra) do the
cryptography; this module adds what PyJWT leaves to its callers (see SECURITY.md): a strict
gate on the token's shape,
UTF-8-only JSON without ``NaN`` or duplicate names, numeric dates that really
are numbers, a required ``exp`` (or a maximum age), a maximum lifetime, ``typ``,
and no exception that escapes as a 500. Keys are prepared once, never per call,
so PyJWT's per-call short-key warning never reaches the logs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeGuard
from uuid import UUID

from .base64url import decode as _b64decode
from .base64url import encode as b64encode
from .base64url import encode_bytes as _b64
from .dates import number, stamp, when
from .errors import (
    ConfigurationError,
    InvalidAlgorithm,
    InvalidClaim,
    InvalidSignature,
    InvalidToken,
    MissingTokenClaim,
    TokenExpired,
    TokenLifetimeTooLong,
    TokenNotYetValid,
    TokenTooLarge,
    UnknownKey,
)
from .keys import ALGORITHMS, Key, KeySet
from .principal import encodable

MAX_TOKEN_LENGTH = 8192
MAX_JSON_DEPTH = 32
MAX_IDENTITY_LENGTH = 512
_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate name")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
"""Built once: ``json.loads`` with hooks would build a decoder on every call."""
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
"""The decoder's own scanner: what ``decode`` runs, without its two whitespace matches when the
object fills the text (as every compact token's does)."""


def _json_object(data: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate names, an object at the top."""
    try:
        text = data.decode("utf-8")
        try:
            obj, end = _SCAN(text, 0)
        except StopIteration:  # no value at the start: leading whitespace, or not JSON
            end = -1
        if end != len(text):  # whitespace around it (JSON too), or more after it: the decoder's way
            obj = _DECODER.decode(text)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise InvalidToken() from e
    if type(obj) is not dict:
        raise InvalidToken()
    # Python 3.13 parses nesting that 3.12 refused: bound it here, so every Python answers the same.
    if (b"[" in data or data.count(b"{") > 1) and not _shallow(obj):
        raise InvalidToken()
    return obj


def segment_json(segment: str) -> dict[str, Any]:
    """The JSON object a token's header or payload segment holds, read strictly (canonical
    unpadded base64url, UTF-8, no NaN or duplicate names, an object at the top); raise
    ``InvalidToken``.

    >>> segment_json("eyJzdWIiOiIxIn0")
    {'sub': '1'}
    """
    return _json_object(_b64decode(segment))


def _shallow(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` nests objects and arrays at most :data:`MAX_JSON_DEPTH` deep."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def json_value(value: object) -> str:
    """JSON for the one non-JSON type ids commonly are: a UUID (Django's ``UUIDField``) as its string."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


_CLAIMS_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=json_value).encode
"""Compact JSON for claims, the encoder built once (``json.dumps`` with options builds one per call)."""
_HEADER_SEGMENTS: dict[tuple[str, str | None, str | None], bytes] = {}
_MAX_HEADER_SEGMENTS = 1024  # (one per key and typ: a few per service; per-tenant keys are bounded too)


def _header_segment(key: Key, typ: str | None, header: Mapping[str, str] | None) -> bytes:
    """The encoded header and its dot: computed once per key and ``typ`` (a service's own extra
    members, rare, are encoded each time)."""
    if not header:
        found = _HEADER_SEGMENTS.get((key.algorithm, key.kid, typ))
        if found is not None:
            return found
    members: dict[str, str] = {"alg": key.algorithm}
    if key.kid is not None:
        members["kid"] = key.kid
    if typ is not None:
        members["typ"] = typ
    if header:  # a service's own header members (Tableau's iss), never alg, kid or typ
        members.update((name, value) for name, value in header.items() if name not in members)
        return _b64(json.dumps(members, separators=(",", ":")).encode()) + b"."
    found = _b64(json.dumps(members, separators=(",", ":")).encode()) + b"."
    if len(_HEADER_SEGMENTS) < _MAX_HEADER_SEGMENTS:
        _HEADER_SEGMENTS[key.algorithm, key.kid, typ] = found
    return found


def sign(claims: Mapping[str, Any], key: Key, *, typ: str | None = "JWT",
         header: Mapping[str, str] | None = None) -> str:
    """Sign ``claims`` as a compact JWS with ``key`` (header ``alg``, ``kid``, ``typ``).

    Claims are written in the order given, as compact JSON, so the jwt.io
    sample token is reproduced byte for byte.

    >>> sign({"sub": "1"}, Key("a-secret-of-at-least-thirty-two-bytes!"))[:36]
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'
    """
    payload = _CLAIMS_JSON(claims if isinstance(claims, dict) else dict(claims))
    signing_input = _header_segment(key, typ, header) + _b64(payload.encode())
    return (signing_input + b"." + _b64(key.sign(signing_input))).decode("ascii")


def check_seconds(value: object, label: str, *, zero_ok: bool = False, maximum: float = math.inf) -> None:
    """Refuse a configured duration that is not a finite number of seconds in range.

    >>> check_seconds(float("nan"), "leeway")
    Traceback (most recent call last):
    ...
    sso_middleware.errors.ConfigurationError: leeway must be a finite number of seconds, not nan.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{label} must be a finite number of seconds, not {value!r}.")
    if value < 0 or (value == 0 and not zero_ok) or value > maximum:
        lowest = "0" if zero_ok else "more than 0"
        raise ConfigurationError(f"{label} must be {lowest} and at most {maximum} seconds.")


@dataclass(frozen=True)
class TokenPolicy:
    """What a verifier accepts. Built once; :func:`verify` applies it.

    ``exp`` is required unless ``max_age`` is set, in which case a token with
    only ``iat`` is accepted while younger than ``max_age`` seconds, or
    ``expiry_optional`` (a stand-in for a service that takes tokens that never
    expire, as Frill's own example signs them). A token
    valid for longer than ``max_lifetime`` seconds is refused, whatever it says.
    ``issuer``, ``audience`` and ``typ`` are checked when set; a token carrying
    an ``aud`` is refused by a verifier configured with none.

    >>> policy = TokenPolicy(KeySet.build("a-secret-of-at-least-thirty-two-bytes!",
    ...                      algorithm="HS256", field="key"))
    >>> sorted(policy.algorithms)
    ['HS256']
    """

    keys: KeySet
    algorithms: frozenset[str] | None = None
    leeway: float = 30.0
    max_lifetime: float = 86400.0
    max_age: float | None = None
    expiry_optional: bool = False
    issuer: Collection[str] | None = None
    audience: str | None = None
    typ: str | None = None
    required: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    max_length: int = MAX_TOKEN_LENGTH
    iat_in_ms: bool = False
    """``iat`` counts milliseconds (Helpjuice's), not seconds; every check reads it in seconds."""
    _signature_lengths: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_seconds(self.leeway, "leeway", zero_ok=True, maximum=300)
        check_seconds(self.max_lifetime, "max_lifetime")
        if self.max_age is not None:
            check_seconds(self.max_age, "max_age")
        if self.algorithms is None:
            object.__setattr__(self, "algorithms", self.keys.algorithms)
        elif not set(self.algorithms) <= ALGORITHMS:
            raise ConfigurationError(
                f"algorithms: only {', '.join(sorted(ALGORITHMS))} can be allowed "
                "('none' never is)."
            )
        # unpadded base64url length of each key's signatures: a token's must be exactly one of them
        lengths = frozenset((4 * k.signature_size + 2) // 3 for k in self.keys.keys)
        object.__setattr__(self, "_signature_lengths", lengths)


class Verified(NamedTuple):
    """A token that passed every check (a named tuple: one is made per login, and a frozen
    dataclass's ``__init__`` costs a call per field).

    ``subject`` is the user's identity (the first of the policy's identity
    claims present), ``expires`` when the token stops being valid (``exp``, or
    ``iat`` + ``max_age``), and ``once`` what makes it one-time: its ``jti``,
    else a digest of its claims in canonical form (key order does not matter).
    """

    claims: dict[str, Any]
    header: dict[str, Any]
    subject: str | int | None
    expires: float
    once: str


_MAX_EXACT = 2**53  # an integer a float holds exactly (any larger one goes the long way)


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    """A date claim as a finite number of seconds; ``None`` when absent; raise ``InvalidClaim``."""
    value: Any = claims.get(name)
    kind = type(value)  # exactly what JSON's decoder gives first: no isinstance chain
    if kind is float and math.isfinite(value):
        return value  # type: ignore[no-any-return]
    if kind is int and -_MAX_EXACT <= value <= _MAX_EXACT:
        return float(value)
    if value is None:
        if name in claims:
            raise InvalidClaim(name)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidClaim(name)
    try:
        number = float(value)
    except OverflowError as e:
        raise InvalidClaim(name) from e
    if not math.isfinite(number):
        raise InvalidClaim(name)
    return number


_STRING_MEMBERS = ("alg", "kid", "typ", "cty")
"""Header members that are strings when present (RFC 7515 4.1): anything else is malformed."""


def check_header(header: Mapping[str, Any]) -> None:
    """Refuse a header this verifier cannot read safely: an ``alg`` that is no string (an
    algorithm it does not take), a ``kid``, ``typ`` or ``cty`` that is no string, or a JWS
    extension (``crit``, ``b64``: none is understood here, RFC 7515 4.1.11).

    >>> check_header({"alg": ["HS256"]})
    Traceback (most recent call last):
    ...
    sso_middleware.errors.InvalidAlgorithm: The sign-in token uses an algorithm that is not allowed.
    """
    if not isinstance(header.get("alg"), str):
        raise InvalidAlgorithm()
    if any(name in header and not isinstance(header[name], str) for name in _STRING_MEMBERS):
        raise InvalidToken()
    if "crit" in header or "b64" in header:
        raise InvalidToken()


# An issuer mints one header segment for all its tokens: parse (and check) it once. Only the parse
# is remembered, never a verdict; failures are not cached. lru_cache is safe across threads.
@functools.lru_cache(maxsize=128)
def _header(segment: str) -> dict[str, Any]:
    """The parsed, checked header of a segment (as strict as :func:`_json_object`, then
    :func:`check_header`). Never mutated; :func:`verify` hands out a copy."""
    header = segment_json(segment)
    check_header(header)
    return header


def looks_like_token(text: object) -> TypeGuard[str]:
    """Whether ``text`` has a compact JWS's shape (three base64url segments, not too long); says
    nothing of its content.

    >>> looks_like_token("eyJh.eyJz.c2ln"), looks_like_token("Bearer eyJh.eyJz.c2ln")
    (True, False)
    """
    return isinstance(text, str) and len(text) <= MAX_TOKEN_LENGTH and _SHAPE.fullmatch(text) is not None


def named_kid(token: object) -> str | None:
    """The ``kid`` a token's header names, unverified (only to choose keys); ``None`` if none
    (or the token has no readable header)."""
    if not looks_like_token(token):
        return None
    try:
        kid = _header(token[: token.index(".")]).get("kid")
    except InvalidToken:
        return None
    return kid  # check_header: a string or absent


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The header and claims of a well-formed token, *without* checking its signature (for
    showing a token to a person, never for trusting it); ``None`` when it is not one."""
    if not looks_like_token(token):
        return None
    header_b64, payload_b64, _ = token.split(".")
    try:
        return segment_json(header_b64), segment_json(payload_b64)
    except InvalidToken:
        return None


class Parts(NamedTuple):
    """A token cut at its dots, its header read (strict JSON, members of the right types) but
    not yet trusted: what the token gates look at."""

    header_b64: str
    payload_b64: str
    signature_b64: str
    header: dict[str, Any]


def split(token: object, policy: TokenPolicy) -> Parts:
    """The first gate, ``format``: a string no longer than the policy allows, three base64url
    segments, and a header that :func:`check_header` accepts; raise an ``InvalidToken``."""
    if not isinstance(token, str):
        raise InvalidToken()
    if len(token) > policy.max_length:
        raise TokenTooLarge()
    if not _SHAPE.fullmatch(token):
        raise InvalidToken()
    header_b64, payload_b64, signature_b64 = token.split(".")
    return Parts(header_b64, payload_b64, signature_b64, _header(header_b64))


def verify(token: object, policy: TokenPolicy, now: float) -> Verified:
    """Check ``token`` fully against ``policy`` at time ``now``; raise an ``InvalidToken``.

    Order matters: the format, then every gate of :data:`TOKEN_GATES` (the signature last), and
    only then the payload is parsed, so unauthenticated input never reaches the claim checks.
    """
    parts = split(token, policy)
    for gate in TOKEN_GATES:
        gate.check(parts, policy)
    claims = segment_json(parts.payload_b64)
    expires, subject = check_claims(claims, policy, now)
    return Verified(claims, dict(parts.header), subject, expires, _once(claims))


# -- the token gates: what is checked before the payload is read, in the order it runs --------


class TokenGate(NamedTuple):
    """One gate a token passes before its payload is read: its name, the check (raises an
    ``InvalidToken``) and what it compared, in words (``verify --explain``)."""

    name: str
    check: Callable[[Parts, TokenPolicy], None]
    explain: Callable[[Parts, TokenPolicy], str]


def _gate_algorithm(parts: Parts, policy: TokenPolicy) -> None:
    if parts.header["alg"] not in policy.algorithms:  # type: ignore[operator]
        raise InvalidAlgorithm()


def _say_algorithm(parts: Parts, policy: TokenPolicy) -> str:
    return f"alg {parts.header['alg']!r}; accepted: {', '.join(sorted(policy.algorithms or ()))}"


def _gate_typ(parts: Parts, policy: TokenPolicy) -> None:
    if policy.typ is not None:
        typ = parts.header.get("typ")
        if typ is None or typ.lower() != policy.typ.lower():
            raise InvalidClaim("typ")


def _say_typ(parts: Parts, policy: TokenPolicy) -> str:
    required = "none" if policy.typ is None else repr(policy.typ)
    return f"typ {parts.header.get('typ')!r}; required: {required}"


def _gate_key(parts: Parts, policy: TokenPolicy) -> None:
    if not policy.keys.candidates(parts.header.get("kid")):
        raise UnknownKey()


def _say_key(parts: Parts, policy: TokenPolicy) -> str:
    kid = parts.header.get("kid")
    if kid is None:
        return "no kid: every configured key is tried"
    return f"kid {kid!r} {'is' if policy.keys.candidates(kid) else 'is not'} a configured key"


def _gate_signature(parts: Parts, policy: TokenPolicy) -> None:
    if len(parts.signature_b64) not in policy._signature_lengths:  # too long or short for every key
        raise InvalidSignature()
    alg = parts.header["alg"]
    keys = [k for k in policy.keys.candidates(parts.header.get("kid")) if alg in k.accepts]
    if not keys:
        raise InvalidAlgorithm()  # the named key signs with another algorithm
    signature = _b64decode(parts.signature_b64)
    signing_input = (parts.header_b64 + "." + parts.payload_b64).encode("ascii")
    if not any(key.verify(signing_input, signature) for key in keys):
        raise InvalidSignature()


def _say_signature(parts: Parts, policy: TokenPolicy) -> str:
    lengths = " or ".join(map(str, sorted(policy._signature_lengths)))
    return (f"{len(parts.signature_b64)} characters (the keys' signatures have {lengths}), checked with "
            "each key the token may name that signs with its alg")


TOKEN_GATES: tuple[TokenGate, ...] = (
    TokenGate("algorithm", _gate_algorithm, _say_algorithm),
    TokenGate("typ", _gate_typ, _say_typ),
    TokenGate("key", _gate_key, _say_key),
    TokenGate("signature", _gate_signature, _say_signature),
)
"""The gates, in the order :func:`verify` runs them (``verify --explain`` shows each)."""


# -- the claim checks, one per claim, in the order they run ----------------------------


class ClaimCheck(NamedTuple):
    """One check of an authentic claim set: its name, the check (raises an ``InvalidToken``;
    returns what it found, if anything) and what it compared, in words."""

    name: str
    check: Callable[[Mapping[str, Any], TokenPolicy, float], Any]
    explain: Callable[[Mapping[str, Any], TokenPolicy, float], str]


def _leeway(policy: TokenPolicy) -> str:
    return f"leeway {policy.leeway:g} s"


def _issued(claims: Mapping[str, Any], policy: TokenPolicy) -> float | None:
    """``iat`` in seconds (from milliseconds where the service counts those)."""
    iat = _numeric(claims, "iat")
    return iat / 1000 if iat is not None and policy.iat_in_ms else iat


def _check_iat(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    iat = _issued(claims, policy)
    if iat is not None and iat > now + policy.leeway:
        raise TokenNotYetValid()


def _check_nbf(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    if "nbf" not in claims:  # (most tokens: no call)
        return
    nbf = _numeric(claims, "nbf")
    if nbf is not None and nbf > now + policy.leeway:
        raise TokenNotYetValid()


def _say_date(name: str) -> Callable[[Mapping[str, Any], TokenPolicy, float], str]:
    def say(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
        value = number(claims, name)
        if name not in claims:
            return "absent"
        if value is None:
            return f"{name} is not a number"
        return f"{name} {when(value, now)}, {_leeway(policy)}"

    return say


def _check_exp(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> float:
    """Refuse an expired or overlong token; its expiry time: ``exp``, or ``iat`` + ``max_age``
    for services that send no ``exp`` (for a token that never expires, where the policy takes
    those, the longest lifetime, so its one-time id is remembered that long)."""
    exp = _numeric(claims, "exp")
    iat = None
    if exp is None:
        iat = _issued(claims, policy)
        if policy.max_age is not None and iat is not None:
            exp = iat + policy.max_age
        elif policy.expiry_optional:
            return now + policy.max_lifetime
        else:
            raise MissingTokenClaim("exp")
    leeway = policy.leeway
    if now >= exp + leeway:  # RFC 7519 4.1.4: valid only *before* exp
        raise TokenExpired()
    if iat is None:
        iat = _issued(claims, policy)
    longest = policy.max_lifetime + leeway
    if exp - now > longest or (iat is not None and exp - iat > longest):
        raise TokenLifetimeTooLong()
    return exp


def _say_exp(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    exp, iat = number(claims, "exp"), number(claims, "iat")
    if exp is not None:
        return f"exp {when(exp, now)}, now {stamp(now)}, {_leeway(policy)}"
    if policy.max_age is not None and iat is not None:
        return f"no exp: valid {policy.max_age:g} s from iat, until {when(iat + policy.max_age, now)}"
    if policy.expiry_optional:
        return "no exp: accepted, as the service accepts tokens that never expire"
    return "no exp" if "exp" not in claims else "exp is not a number"


def _shown(claims: Mapping[str, Any], name: str) -> str:
    return f"{name} {claims[name]!r}" if name in claims else f"no {name}"


def _check_iss(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    if policy.issuer is None:
        return
    iss = claims.get("iss")
    if iss is None:
        raise MissingTokenClaim("iss")
    if not isinstance(iss, str) or iss not in policy.issuer:
        raise InvalidClaim("iss")


def _say_iss(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    accepted = "any" if policy.issuer is None else ", ".join(map(repr, policy.issuer))
    return f"{_shown(claims, 'iss')}; accepted: {accepted}"


def _check_aud(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    aud = claims.get("aud")
    if policy.audience is None:
        if aud is not None:  # minted for some audience, and we are none
            raise InvalidClaim("aud")
        return
    if aud is None:
        raise MissingTokenClaim("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or policy.audience not in audiences:
        raise InvalidClaim("aud")


def _say_aud(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    required = ("none (a token naming an audience is refused)" if policy.audience is None
                else repr(policy.audience))
    return f"{_shown(claims, 'aud')}; required: {required}"


def _check_jti(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    jti = claims.get("jti")
    if jti is not None and (not isinstance(jti, str) or not 0 < len(jti) <= 256):
        raise InvalidClaim("jti")


def _say_jti(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    if "jti" in claims:
        return "jti present (one-time use is checked by the receiver, not offline)"
    return "no jti (the receiver keys one-time use on a digest of the claims)"


def _check_required(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> None:
    for name in policy.required:
        if claims.get(name) in (None, ""):
            raise MissingTokenClaim(name)


def _say_required(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    return "required: " + (", ".join(policy.required) or "nothing beyond the above")


def _fits_identity(value: object) -> bool:
    """A string of at most 512 characters that UTF-8 can encode, or a 64-bit integer.

    Bounded so the session cookie stays under 4,096 bytes (browsers drop larger
    ones), and encodable so ``REMOTE_USER`` and logs can carry it.
    """
    if isinstance(value, str):
        return len(value) <= MAX_IDENTITY_LENGTH and value.isprintable() and encodable(value)
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**64


def _check_identity(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str | int | None:
    """Refuse a ``sub``/``id`` of the wrong type or an unusable identity; the identity: the first
    of the policy's identity claims that is present and not ``""`` (``None`` when the policy
    names no identity claim)."""
    for name in ("sub", "id"):  # whoever reads them later gets a string or an integer
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise InvalidClaim(name)
    if not policy.identity:
        return None
    for name in policy.identity:  # the first identity claim present
        value = claims.get(name)
        if value is None or value == "":
            continue
        if not _fits_identity(value):
            raise InvalidClaim(name)
        return value  # type: ignore[no-any-return]
    raise MissingTokenClaim(policy.identity[0])


def _say_identity(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> str:
    wanted = " or ".join(policy.identity) or "none"
    found = next((f"{n}={claims[n]!r}" for n in policy.identity if claims.get(n) not in (None, "")), "none")
    return f"the user is named by {wanted}: {found}"


def _once(claims: Mapping[str, Any]) -> str:
    jti = claims.get("jti")
    if jti:
        return str(jti)
    canonical = json.dumps(claims, sort_keys=True, separators=(",", ":"))
    return "claims:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


CLAIM_CHECKS: tuple[ClaimCheck, ...] = (
    ClaimCheck("iat", _check_iat, _say_date("iat")),
    ClaimCheck("nbf", _check_nbf, _say_date("nbf")),
    ClaimCheck("exp", _check_exp, _say_exp),
    ClaimCheck("iss", _check_iss, _say_iss),
    ClaimCheck("aud", _check_aud, _say_aud),
    ClaimCheck("jti", _check_jti, _say_jti),
    ClaimCheck("required", _check_required, _say_required),
    ClaimCheck("identity", _check_identity, _say_identity),
)
"""The claim checks, in the order they run (``verify --explain`` shows each). A new check is one
entry here, with its words beside it."""


class Checked(NamedTuple):
    """What the claim checks found: when the token stops being valid, and who it names."""

    expires: float
    subject: str | int | None


_NAMES = [check.name for check in CLAIM_CHECKS]
_EXP, _IDENTITY = _NAMES.index("exp"), _NAMES.index("identity")
_CHECKS = tuple(check.check for check in CLAIM_CHECKS)
"""The table's check functions (the table is a constant tuple: taken once, the same checks
``--explain`` shows)."""


def _every_check(claims: Mapping[str, Any], policy: TokenPolicy, now: float) -> list[Any]:
    """What each claim check found, in the table's order (index it with ``_EXP`` and
    ``_IDENTITY``); the first check to refuse raises its error. Every login and session miss:
    one pass, no names compared."""
    found = []
    for check in _CHECKS:  # (a loop: a comprehension costs a frame before 3.12)
        found.append(check(claims, policy, now))
    return found


def check_claims(claims: Mapping[str, Any], policy: TokenPolicy, now: float,
                 only: Collection[str] | None = None) -> Checked:
    """Every claim check (or those named in ``only``), in order, on an authentic claim set; what
    ``exp`` and ``identity`` found, by name (``now`` and ``None`` for a check left out)."""
    if only is None:
        found = _every_check(claims, policy, now)
        return Checked(found[_EXP], found[_IDENTITY])
    ran = {name: check(claims, policy, now) for name, check, _ in CLAIM_CHECKS if name in only}
    return Checked(ran.get("exp", now), ran.get("identity"))


class OwnTokens:
    """Reads tokens that one HMAC key of this process signed (the verifier's session cookies):
    the same answer as :func:`verify`, at less cost.

    Every token the key signs with ``typ`` carries the same header: its gates (``format``,
    ``algorithm``, ``typ``, ``key``) passed once, here. A token starting with that very header
    and carrying the key's HMAC (compared on the canonical encoding, so one spelling passes) is
    left its payload (strict base64url and JSON) and every claim check, by the table itself (a
    refusal there is the error ``verify`` raises: the same check raises it); no one-time id is
    computed. Any other token, and a token refused before its claims, goes through
    :func:`verify` (another key of the policy, a key pair, the refusal's own error).

    >>> key = Key("a-secret-of-at-least-thirty-two-bytes!")
    >>> own = OwnTokens(key, TokenPolicy(KeySet([key]), identity=("sub",)), typ="JWT")
    >>> own.read(sign({"sub": "ada", "exp": 2000}, key), 1000.0)
    ('ada', {'sub': 'ada', 'exp': 2000})
    """

    __slots__ = ("_header", "_key", "_policy")

    def __init__(self, key: Key, policy: TokenPolicy, *, typ: str | None) -> None:
        if key not in policy.keys.keys:
            raise ConfigurationError("OwnTokens: the key must be one of the policy's keys.")
        self._key, self._policy = key, policy
        self._header: str | None = None
        if key.secret is not None:
            parts = split(sign({}, key, typ=typ), policy)
            try:
                for gate in TOKEN_GATES:
                    if gate.name != "signature":  # (what read() compares instead)
                        gate.check(parts, policy)
            except InvalidToken as e:
                raise ConfigurationError(
                    f"OwnTokens: the policy refuses the tokens its key {key.kid or key.algorithm} signs "
                    f"with typ {typ!r} ({e.code}): give the policy that key's algorithm and typ."
                ) from e
            self._header = parts.header_b64 + "."

    def read(self, token: object, now: float) -> tuple[str | int | None, dict[str, Any]]:
        """The subject and claims of ``token`` if it passes every check; raise an ``InvalidToken``."""
        header = self._header
        if (header is not None and type(token) is str and token.startswith(header)
                and len(token) <= self._policy.max_length and token.isascii()):
            signing_input, _, signature = token.rpartition(".")
            expected = _b64(self._key.sign(signing_input.encode("ascii")))
            if hmac.compare_digest(expected, signature.encode("ascii")):
                claims = segment_json(signing_input[len(header):])
                return _every_check(claims, self._policy, now)[_IDENTITY], claims
        verified = verify(token, self._policy, now)
        return verified.subject, verified.claims


__all__ = [
    "CLAIM_CHECKS",
    "MAX_IDENTITY_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_TOKEN_LENGTH",
    "TOKEN_GATES",
    "Checked",
    "ClaimCheck",
    "OwnTokens",
    "Parts",
    "TokenGate",
    "TokenPolicy",
    "Verified",
    "b64encode",
    "check_claims",
    "check_header",
    "check_seconds",
    "json_value",
    "looks_like_token",
    "named_kid",
    "peek",
    "segment_json",
    "sign",
    "split",
    "verify",
]
