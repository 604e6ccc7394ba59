"""No request makes either middleware raise (issue 22): hypothesis over every path they answer.

Each target below is one middleware as users build it (the issuer with its presets, the generic
receiver, stand-ins for Frill, Invoiced, Zendesk, Discourse, Mintlify and Intercom, a receiver
that fetches a JWKS, the OpenID Connect provider with consent, logout and WebFinger), fed generated
requests on both skins: tokens built from hostile JSON
(``alg`` as a list, ``NaN``, nesting, lone surrogates, duplicate names, ...) and signed with the
right key or not, in every placement, plus cookies, headers, methods, bodies and query strings.
Every answer must be a 2xx, 3xx, 4xx or 503, never an exception, and a refusal carries its error
code. The CLI gets the same tokens: ``decode``, ``verify --key-env``, ``verify --explain``,
``mint generic --claim``.

The default run (the inner loop, ``-m "not slow"``) makes 60 examples per target and skin with a
fixed seed: a smoke test that keeps the loop fast. The long run (``slow``: CI's default Python,
8,000 inputs) is the one that searches. Before a release, run it at full size::

    SSO_FUZZ_EXAMPLES=60000 pytest -m slow tests/test_fuzz.py -p no:cacheprovider

``SSO_FUZZ_EXAMPLES`` is the long run's total (default 52,000), shared out evenly between the
targets and skins; the count of requests actually sent is printed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import math
import os
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from helpers import KEY, OTHER_KEY, USERS, Clock, Skin
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sso_middleware import errors, services
from sso_middleware.__main__ import main as cli_main
from sso_middleware.jwks import RemoteKeys
from sso_middleware.keys import Key
from sso_middleware.placements import SignedPayload
from sso_middleware.tokens import b64encode

NOW = 1_800_000_000
FORUM = "https://forum.acme.com"
SECRET = "d836444a9e4084d5b224a60c208dce14"  # Discourse's example secret (32 bytes)
INTERCOM = "intercom-messenger-secret-0123456789abcdef"
TABLEAU = "t" * 40
SESSION_KEY = "fuzz-session-key-for-the-jwks-receiver-0123"
CLI_KEY = "fuzz-key-for-the-command-line-" + "0123456789abcdef" * 3  # 78 bytes: long enough for HS512
PAIRS = {alg: Key.generate(alg, kid=f"{alg.lower()}-1") for alg in ("RS256", "ES256", "EdDSA")}

DEFAULT_EXAMPLES = 60
"""Examples per target and skin in the default run."""
LONG_TOTAL = int(os.environ.get("SSO_FUZZ_EXAMPLES", "52000"))
"""Examples in the long run, across every target and both skins."""

CODES = frozenset(
    cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.SSOError)
)
_CODE_IN_PAGE = re.compile(r"Error code: <code>([a-z_]+)</code>")
_SENT: dict[str, int] = {}
"""Requests (or CLI runs) sent per test, for the summary line."""


# -- raw requests on both skins -------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One request as a server hands it over: the path percent-decoded to bytes, the query and
    header values as latin-1 text (the bytes on the wire)."""

    method: str
    path: bytes
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    https: bool = False
    root: str = ""


Answer = tuple[int, list[tuple[str, str]], bytes]


def call_wsgi(app: Any, request: Hostile) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": request.root,
        "PATH_INFO": request.path.decode("latin-1"),
        "QUERY_STRING": request.query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443" if request.https else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "https" if request.https else "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "CONTENT_LENGTH": str(len(request.body)),
    }
    for name, value in request.headers:  # servers join repeated headers (cookies with "; ")
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            key = key[5:]
        joiner = "; " if name.lower() == "cookie" else ", "
        environ[key] = environ[key] + joiner + value if key in environ else value
    started: list[tuple[str, list[tuple[str, str]]]] = []
    chunks = app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    ((status, headers),) = started
    return int(status.split()[0]), [(n.lower(), v) for n, v in headers], data


def call_asgi(app: Any, request: Hostile) -> Answer:
    path = request.path.decode("utf-8", "replace")  # as uvicorn decodes a percent-decoded path
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "https" if request.https else "http",
        "path": request.root + path,
        "raw_path": quote(request.root.encode() + request.path).encode("ascii"),
        "query_string": request.query.encode("latin-1"),
        "root_path": request.root,
        "server": ("localhost", 443 if request.https else 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in request.headers]
        + [(b"content-length", str(len(request.body)).encode())],
    }
    messages = iter([{"type": "http.request", "body": request.body, "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (
        starts[0]["status"],
        [(n.decode("latin-1"), v.decode("latin-1")) for n, v in starts[0]["headers"]],
        data,
    )


def call(skin: Skin, app: Any, request: Hostile) -> Answer:
    return (call_wsgi if skin.name == "wsgi" else call_asgi)(app, request)


def check_answer(
    request: Hostile, answer: Answer, secrets: tuple[str, ...] = (), codes: frozenset[str] = frozenset()
) -> None:
    """A 2xx, 3xx, 4xx or 503; a refusal names its error code (JSON or page) and is never cached;
    ``codes``: the target's own beyond the library's (OAuth 2.0's, for the OpenID provider)."""
    status, headers, body = answer
    assert 200 <= status < 500 or status == 503, (status, body[:300])
    if status < 400:
        return
    found = dict(headers)
    assert found.get("cache-control") == "no-store", headers
    if request.method == "HEAD":
        assert body == b""
        return
    text = body.decode("utf-8")
    if found.get("content-type") == "application/json":
        code = json.loads(text)["error"]
    else:
        match = _CODE_IN_PAGE.search(text)
        assert match is not None, text[:300]
        code = match[1]
    assert code in CODES or code in codes, code
    if status == 503:
        assert code in ("keys_unavailable", "replay_store_unavailable", "replay_store_full"), code
    for secret in secrets:  # an error page never echoes the token
        assert secret not in text


# -- tokens -----------------------------------------------------------------------------------

# Hostile values are drawn from pools made once, from a fixed seed: one cheap draw each, so an
# example costs about a millisecond to make (hypothesis' own text and recursive strategies cost
# tens), and shrinking still works (towards the plain values at the front of each pool).
_SEED = random.Random(22)
_PIECES = [
    "ada",
    "7",
    "a",
    "HS256",
    "none",
    "ada@example.com",
    "..",
    "/",
    "%00",
    "%2F",
    "<script>",
    "'",
    '"',
    "\\",
    "\u00e9",
    "\u00c3\u00a9",
    "\U0001d552",
    "\u0301",
    "\ufeff",
    "\u200b",
    "\u202e",
    "\u2066",
    "\u061c",
    "\x1b]52;c;",
    "\x1b[2K\r",
    "\x07",
    "\x00",
    "\x7f",
    "\x85",
    "\x9b",
    "\t",
    "\r\n",
    "\n",
    " ",
    "\ud800",
    "\udfff",
    "\udc80",
    "\U0010ffff",
    "\uffff",
    "\ufdd0",
    "a" * 600,
    "signature: VALID",
    "=",
    "&",
    "?",
    "#",
    ";",
    ",",
]


def _text(r: random.Random) -> str:
    return "".join(r.choice(_PIECES) for _ in range(r.randrange(1, 5)))


def _number(r: random.Random) -> int | float:
    return r.choice(
        [
            NOW + r.randrange(-(10**6), 10**6),
            NOW + 60,
            NOW - 60,
            NOW + 86400 * 2,
            0,
            -1,
            2**31,
            2**53 + 1,
            2**63,
            2**64,
            2**70,
            -(2**63) - 1,
            10**300,
            -(10**300),
            1e20,
            -1e300,
            1.7976931348623157e308,
            5e-324,
            NOW + 0.5,
            r.random() * 10 ** r.randrange(-5, 300),
            -r.random(),
        ]
    )


def _json(r: random.Random, depth: int = 0) -> Any:
    kind = r.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return r.choice([None, True, False])
    if kind in (1, 2):
        return _number(r)
    if kind in (3, 4, 5):
        return _text(r)
    if kind in (6, 7):
        return [_json(r, depth + 1) for _ in range(r.randrange(4))]
    return {_text(r): _json(r, depth + 1) for _ in range(r.randrange(4))}


_TEXTS = [
    "",
    " ",
    "ada",
    "7",
    "\u00b2",  # str.isdigit() says yes, int() says no
    "\u0661\u0662",  # Arabic-Indic 12: int() reads it, an ASCII-digit check must not
    "HS256",
    "none",
    "\x00",
    "\ud800ada",
    "\u00e9",
    "a" * 600,
    *(_text(_SEED) for _ in range(400)),
]
_JSONS = [None, True, 0, "", [], {}, ["HS256"], {"alg": "HS256"}, 1.5, *(_json(_SEED) for _ in range(800))]
_NUMS = [NOW, NOW + 60, *(_number(_SEED) for _ in range(200))]
_NASTY_TEXT = st.sampled_from(_TEXTS)
_NUMBERS = st.sampled_from(_NUMS)
_JSON = st.sampled_from(_JSONS)
_ALGS = st.one_of(
    st.sampled_from(
        [
            "HS256",
            "HS384",
            "HS512",
            "RS256",
            "PS256",
            "ES256",
            "EdDSA",
            "Ed25519",
            "none",
            "None",
            "hs256",
            "HS256 ",
            "",
        ]
    ),
    _JSON,  # a list, an object, a number, null ...
)
_RAW_JSON = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1" * 5000,
    "1e-400",
    "01",
    "0x10",
    "tru",
    "[" * 40 + "]" * 40,
    '{"a":' * 40 + "1" + "}" * 40,
    "[" * 5000 + "]" * 5000,
    '"\\ud800"',
    '"\\u0000"',
    "{}",
    "[]",
    '"' + "x" * 9000 + '"',
]
_PLACEHOLDER = "\x1eRAW\x1e"


@st.composite
def json_bytes(draw: st.DrawFn, objects: st.SearchStrategy[dict[str, Any]]) -> bytes:
    """A JSON object's bytes, sometimes broken the ways parsers differ on."""
    obj = draw(objects)
    raw = draw(st.sampled_from(_RAW_JSON)) if draw(st.integers(0, 5)) == 0 else None
    if raw is not None:  # one member's value written raw: NaN, 1e400, deep nesting, ...
        obj = {
            **obj,
            draw(st.sampled_from(["alg", "kid", "exp", "iat", "sub", "id", "nbf", "x"])): _PLACEHOLDER,
        }
    text = json.dumps(obj, ensure_ascii=draw(st.sampled_from([True, True, True, False])), allow_nan=True)
    text = text.replace(json.dumps(_PLACEHOLDER, ensure_ascii=False), raw or "")
    text = text.replace(json.dumps(_PLACEHOLDER), raw or "")
    form = draw(
        st.sampled_from(["plain"] * 14 + ["duplicate", "utf-16", "bom", "not-object", "junk", "bytes"])
    )
    if form == "duplicate" and text.endswith("}") and len(text) > 2:
        text = text[:-1] + ', "alg": "HS256", "exp": 1}'
    if form == "not-object":
        text = draw(st.sampled_from(["[]", "null", "1", '"x"', "", " "]))
    if form == "bytes":
        return draw(st.binary(max_size=40))
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8
    if form == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if form == "bom":
        return b"\xef\xbb\xbf" + data
    if form == "junk":
        return data + draw(st.binary(min_size=1, max_size=4))
    return data


_KIDS = st.sampled_from([*(k.kid for k in PAIRS.values()), "secret-id-1"])


def _headers(alg: str) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly a header the receiver could take (so the signature and claims are checked too), with
    a hostile member now and then; else one hostile throughout."""
    sane = st.fixed_dictionaries({"alg": st.just(alg)}, optional={"typ": st.just("JWT"), "kid": _KIDS})
    odd_member = st.builds(
        lambda h, name, value: {**h, name: value},
        sane,
        st.sampled_from(["alg", "kid", "typ", "crit", "b64", "jku", "jwk", "x5u", "cty"]),
        _JSON,
    )
    named = st.fixed_dictionaries(
        {"alg": _ALGS},
        optional={
            "typ": st.sampled_from(["JWT", "jwt", "sso-session"]) | _JSON,
            "kid": _KIDS | _JSON,
            "crit": _JSON,
            "b64": _JSON,
            "jku": _JSON,
            "jwk": _JSON,
            "x5u": _JSON,
            "cty": _JSON,
        },
    )
    confused = st.builds(
        lambda h, name, value: {**h, name: value},
        sane,
        st.sampled_from(["alg", "kid", "typ", "cty"]),
        st.sampled_from([[], {}, [alg], {"alg": alg}, 1, None, True, 1.5, [[]], 2**64]),
    )
    return st.one_of(
        sane, sane, confused, confused, odd_member, named, st.dictionaries(_NASTY_TEXT, _JSON, max_size=4)
    )


_CLAIM_NAMES = [
    "sub",
    "id",
    "email",
    "name",
    "iat",
    "exp",
    "nbf",
    "jti",
    "iss",
    "aud",
    "external_id",
    "nonce",
    "userId",
    "sid",
    "svc",
    "src",
    "typ",
    "scp",
    "expiresAt",
    "user_id",
]


def _claims() -> st.SearchStrategy[dict[str, Any]]:
    plausible = st.fixed_dictionaries(
        {"sub": st.just("ada") | _JSON, "exp": st.just(NOW + 60) | _NUMBERS},
        optional={
            name: _NUMBERS if name in ("iat", "nbf") else _JSON
            for name in _CLAIM_NAMES
            if name not in ("sub", "exp")
        },
    )
    return st.one_of(
        plausible,
        plausible,
        plausible,
        st.dictionaries(st.sampled_from(_CLAIM_NAMES) | _NASTY_TEXT, _JSON, max_size=6),
    )


def _b64(data: bytes) -> str:
    return b64encode(data)


@st.composite
def tokens(draw: st.DrawFn, keys: tuple[Key, ...]) -> str:
    """A compact JWS, or something shaped like one: hostile header and claims, signed with one of
    ``keys`` (so the checks after the signature run too) or not."""
    if draw(st.integers(0, 19)) == 0:  # raw text
        return draw(_NASTY_TEXT | st.sampled_from(["", ".", "..", "a.b.c", "a" * 9000 + ".b.c"]))
    key = draw(st.sampled_from(keys)) if keys else None
    alg = key.algorithm if key is not None else "HS256"
    header = _b64(draw(json_bytes(_headers(alg))))
    payload = _b64(draw(json_bytes(_claims())))
    signing_input = f"{header}.{payload}"
    how = draw(
        st.sampled_from(["key"] * 5 + ["random", "length", "length", "length", "text", "empty", "extra"])
    )
    if how == "key" and key is not None:
        signature = _b64(key.sign(signing_input.encode("ascii")))
    elif how in ("random", "length"):
        size = draw(
            st.sampled_from([31, 33, 48, 64, 256, 71, 72, 114, 1]) if how == "length" else st.integers(0, 300)
        )
        signature = _b64(draw(st.binary(min_size=size, max_size=size)))
    elif how == "text":
        signature = draw(st.text(alphabet="ABCDEFGHIJabcdef0123456789-_+/=. ", max_size=90))
    elif how == "extra":
        return signing_input + "." + _b64(b"s" * 32) + "." + draw(_NASTY_TEXT)
    else:
        signature = ""
    token = f"{signing_input}.{signature}"
    mangle = draw(st.sampled_from(["none"] * 17 + ["pad", "space", "plus"]))
    if mangle == "pad":
        token += "="
    elif mangle == "space":
        token = f" {token} "
    elif mangle == "plus":
        token = token.replace("-", "+").replace("_", "/")
    return token


# -- request parts --------------------------------------------------------------------------

_HEADER_TEXT = st.sampled_from(
    [  # the bytes a server hands over (UTF-8 read as latin-1), no CR, LF or NUL
        t.encode("utf-8", "surrogatepass").decode("latin-1")
        for t in _TEXTS
        if not {"\r", "\n", "\x00"} & set(t)
    ]
)
_LATIN1 = st.sampled_from(
    [
        "",
        "x",
        *(
            "".join(
                chr(_SEED.choice([*range(1, 10), *range(11, 13), *range(14, 256)]))
                for _ in range(_SEED.randrange(1, 20))
            )
            for _ in range(300)
        ),
    ]
)
_URLS = st.one_of(
    st.sampled_from(
        [
            "https://feedback.acme.com/b/ideas",
            "https://feedback.acme.com",
            "https://acme.zendesk.com/hc",
            "https://evil.example/",
            "http://feedback.acme.com/",
            "//evil.example",
            "/\\evil.example",
            "https://feedback.acme.com\\@evil.example/",
            "https://user@feedback.acme.com/",
            "https://feedback.acme.com//evil.example/",
            "javascript:alert(1)",
            "/d/abc",
            "/",
            "//",
            "",
            "https://feedback.acme.com./",
            "https://FEEDBACK.acme.com/",
            "https://feedback.acme.com:99999/",
            "https://[::1]/",
            "https://feedback.acme.com/\x00",
            "https://feedback.acme.com/\t/x",
            "https://xn--80ak6aa92e.com/",
            "https://canny.io/x",
            "https://acme.canny.io/x",
            "https://forum.acme.com/session/sso_login",
            "/t/welcome",
            "/%2F%2Fevil.example",
        ]
    ),
    _NASTY_TEXT,
    st.builds(lambda s: "https://feedback.acme.com/" + s, _NASTY_TEXT),
)
_PARAMS = [
    "redirect",
    "return_to",
    "returnTo",
    "redirectUrl",
    "companyID",
    "brand_id",
    "locale_id",
    "timestamp",
    "state",
    "next",
    "sso",
    "sig",
    "token",
    "ssoToken",
    "jwt",
    "auth_token",
    "x",
]
_METHODS = st.sampled_from(
    ["GET"] * 6
    + ["HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "get", "PROPFIND", "CONNECT"]
)
_LOGIN_METHODS = st.sampled_from(["GET"] * 12 + ["HEAD", "POST", "PUT", "OPTIONS", "get"])
_ACCEPT = (
    st.sampled_from(
        [None, "application/json", "text/html", "application/json, text/html", "*/*", "APPLICATION/JSON"]
    )
    | _HEADER_TEXT
)


@st.composite
def queries(draw: st.DrawFn, extra: st.SearchStrategy[list[tuple[str, str]]] | None = None) -> str:
    """A query string: named parameters (sometimes twice), the target's own, raw bytes, or huge."""
    pairs = (
        draw(st.lists(st.tuples(st.sampled_from(_PARAMS) | _NASTY_TEXT, _URLS), max_size=3))
        if draw(st.booleans())
        else []
    )
    if extra is not None:
        pairs = draw(extra) + pairs if draw(st.booleans()) else pairs + draw(extra)
    query = urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
    )
    tail = draw(
        st.sampled_from([""] * 8 + ["&", "&&", "%", "&%zz", "&x=%ff%fe", "=", ";x=1", "&" + "a" * 9000])
        | _LATIN1.map(lambda text: "&" + text)
    )
    return query + tail


@st.composite
def headers(draw: st.DrawFn, cookie: st.SearchStrategy[str] | None = None) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = [
        ("Host", draw(st.sampled_from(["localhost", "app.acme.com"]) | _HEADER_TEXT))
    ]
    user = draw(st.sampled_from([None, "ada", "bob", "mallory", "nameless"]) | _HEADER_TEXT)
    if user is not None:
        found.append(("X-User", user))
    accept = draw(_ACCEPT)
    if accept is not None:
        found.append(("Accept", accept))
    origin = draw(
        st.sampled_from([None, None, "http://localhost", "https://localhost", "null", "https://evil.example"])
        | _HEADER_TEXT
    )
    if origin is not None:
        found.append(("Origin", origin))
    site = draw(st.sampled_from([None, None, "same-origin", "cross-site", "same-site", "none"]))
    if site is not None:
        found.append(("Sec-Fetch-Site", site))
    if cookie is not None and draw(st.integers(0, 3)):
        found.append(("Cookie", draw(cookie)))
        if draw(st.integers(0, 5)) == 0:
            found.append(("Cookie", draw(cookie)))  # HTTP/2 sends cookies apart
    found.extend(
        draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["Content-Type", "Referer", "X-Forwarded-Proto", "Authorization"])
                    | st.from_regex(r"X-[A-Za-z]{1,8}", fullmatch=True),
                    _HEADER_TEXT,
                ),
                max_size=2,
            )
        )
    )
    return tuple(found)


def form_body(field: str, token: str) -> st.SearchStrategy[bytes]:
    """A form body carrying ``token`` in ``field`` (sometimes twice, or huge), or junk."""
    encoded = st.sampled_from(["", f"&{field}=again", "&x=1", "&" + "a" * 20000]).map(
        lambda more: (urlencode([(field, token.encode("utf-8", "surrogatepass"))]) + more).encode("latin-1")
    )
    return st.one_of(encoded, encoded, st.binary(max_size=60), st.just(field.encode() + b"=\xff\xfe"))


def cookie_header(names: list[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.builds(lambda n, v: f"{n}={v}", st.sampled_from(names) | _LATIN1, values)
    return st.lists(pair, min_size=1, max_size=3).map("; ".join) | _HEADER_TEXT


def _latin1(token: str) -> str:
    """A token as a server hands it over inside a header: its UTF-8 bytes, read as latin-1."""
    return token.encode("utf-8", "surrogatepass").decode("latin-1")


def _path_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


_PATHS = _NASTY_TEXT.map(lambda s: "/" + s.lstrip("/")) | st.binary(max_size=12).map(
    lambda b: "/" + b.decode("latin-1")
)


# -- the targets --------------------------------------------------------------------------------


def frill() -> services.Service:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def discourse(**kw: Any) -> services.Service:
    return services.discourse(secret=SECRET, url=FORUM, **kw)


def _users(request: Any) -> Any:
    """The issuer's extractor: the user the X-User header names, including ones whose profile
    fields (which users edit themselves) are hostile."""
    name = request.headers.get("x-user", "")
    if name == "mallory":
        return {
            "id": 2**62,
            "email": "m\u202e@example.com\r\n",
            "name": "\ud800\x1b]52;c;\x07",
            "invoiced_id": -(2**63),
            "username": "../admin",
        }
    if name == "nameless":
        return {"id": "u-9", "email": "", "name": None}
    return USERS.get(name)


class Target:
    """A middleware to fuzz: how it is built on one skin, what an example draws (its plan), and
    the requests a plan becomes once the app exists."""

    name: str = ""
    keys: tuple[Key, ...] = ()
    codes: frozenset[str] = frozenset()
    """Error codes of this target's own, beyond the library's ``SSOError`` codes."""

    def build(self, skin: Skin, clock: Clock) -> Any:
        raise NotImplementedError

    def plans(self) -> st.SearchStrategy[Any]:
        raise NotImplementedError

    def requests(self, app: Any, plan: Any) -> list[Hostile]:
        return plan  # type: ignore[no-any-return]


@st.composite
def issuer_requests(draw: st.DrawFn) -> list[Hostile]:
    path = draw(st.sampled_from(Issuer.PATHS))
    extra = discourse_requests() if path == "/sso/discourse" and draw(st.booleans()) else None
    return [
        Hostile(
            draw(_LOGIN_METHODS),
            _path_bytes(path),
            draw(queries(extra)),
            draw(headers(cookie_header(["session", "sso_session"], _LATIN1))),
            draw(st.binary(max_size=40)),
            draw(st.booleans()),
            draw(st.sampled_from(["", "", "/app", "/\u00e4"])),
        )
    ]


@st.composite
def discourse_requests(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A Discourse login request signed with the forum's secret, its content hostile."""
    fields = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["nonce", "return_sso_url", "x"]) | _NASTY_TEXT,
                _URLS | st.just("cb68251eefb5211e58c00ff1395f0c0b"),
            ),
            max_size=3,
        )
    )
    raw = urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in fields]
    ).encode()
    raw = draw(st.sampled_from([raw, raw * 200]) | st.binary(max_size=30))
    payload = base64.encodebytes(raw).decode() if draw(st.booleans()) else base64.b64encode(raw).decode()
    sig = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    sig = draw(st.sampled_from([sig, sig, sig.upper()]) | st.text(alphabet="0123456789abcdef", max_size=66))
    return [("sso", payload), ("sig", sig)]


class Issuer(Target):
    """The issuer with a dozen presets: redirects, a path token, a form post, Discourse, two token
    endpoints, key pairs (so the JWKS is served)."""

    name = "issuer"
    PATHS = (
        "/sso/frill",
        "/sso/invoiced",
        "/sso/zendesk",
        "/sso/discourse",
        "/sso/canny",
        "/sso/featurebase",
        "/sso/intercom/token",
        "/sso/tableau/token",
        "/sso/grafana",
        "/sso/mintlify",
        "/sso/.well-known/jwks.json",
        "/sso/frill/",
        "/sso/FRILL",
        "/sso/intercom",
        "/sso/",
        "/",
    )

    def build(self, skin: Skin, clock: Clock) -> Any:
        presets = [
            frill(),
            services.invoiced(key=OTHER_KEY, company="acme", customer_id="invoiced_id"),
            services.zendesk(key=KEY, subdomain="acme", hosts=["help.acme.com"]),
            discourse(extra_claims={"groups": ["staff"]}),
            services.canny(key=KEY, hosts=["feedback.acme.com"]),
            services.featurebase(key=KEY, organization="acme"),
            services.intercom(key=INTERCOM),
            services.tableau(secret=TABLEAU, secret_id="secret-id-1", client_id="client-id-1"),
            services.grafana(key=PAIRS["RS256"], url="https://grafana.acme.com"),
            services.mintlify(key=PAIRS["EdDSA"], docs="https://docs.acme.com"),
        ]
        return skin.module.IssuerMiddleware(
            skin.echo, services=presets, user=_users, login_url="/login", clock=clock
        )

    def plans(self) -> st.SearchStrategy[Any]:
        return issuer_requests()


@st.composite
def verifier_requests(draw: st.DrawFn, target: Verifier) -> list[Hostile]:
    """A login in the target's placement, a logout, or any page; each with cookies (the session
    cookie forged, or signed with the session key and hostile inside)."""
    cookies = cookie_header(
        [target.cookie, "__Host-" + target.cookie, target.cookie + "_nonce"],
        target.session_tokens().map(_latin1),
    )
    kind = draw(st.sampled_from(["login"] * 4 + ["page", "page", "logout"]))
    if kind == "login":
        request = draw(target.login(draw(tokens(target.keys))))
        return [
            Hostile(
                request.method,
                request.path,
                request.query,
                request.headers + draw(headers(cookies)),
                request.body,
                draw(st.booleans()),
            )
        ]
    if kind == "logout":
        method = draw(st.sampled_from(["POST", "POST", "GET", "HEAD"]))
        return [
            Hostile(
                method,
                _path_bytes(target.logout),
                draw(queries()),
                draw(headers(cookies)),
                draw(st.binary(max_size=20)),
                draw(st.booleans()),
            )
        ]
    path = draw(st.sampled_from(["/", "/page", "/sso", "/sso/", "//evil.example/", "/%2e%2e/"]) | _PATHS)
    return [
        Hostile(
            draw(_METHODS),
            _path_bytes(path),
            draw(queries()),
            draw(headers(cookies)),
            b"",
            draw(st.booleans()),
        )
    ]


class Verifier(Target):
    """A receiver: logins in its placement, logout, and its session cookie on any page."""

    cookie = "sso_session"
    logout = "/sso/logout"
    keys = (Key(KEY),)
    session_key: str | None = None

    def options(self) -> dict[str, Any]:
        return {"key": KEY}

    def build(self, skin: Skin, clock: Clock) -> Any:
        return skin.module.VerifierMiddleware(skin.echo, clock=clock, **self.options())

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        raise NotImplementedError

    def session_tokens(self) -> st.SearchStrategy[str]:
        """Session cookies: forged, and signed with the session key (hostile claims, authentic)."""
        key = self.session_key if self.session_key is not None else self.keys[0].derive("session")
        return tokens((Key(key),))

    def plans(self) -> st.SearchStrategy[Any]:
        return verifier_requests(self)


class Generic(Verifier):
    name = "generic"

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        extra = st.lists(st.tuples(st.sampled_from(["next", "token", "redirect"]), _URLS), max_size=2)
        return st.builds(
            lambda m, q: Hostile(m, b"/sso", q),
            _LOGIN_METHODS,
            queries(extra.map(lambda more: [("token", token), *more])),
        )


class FrillStandIn(Verifier):
    """``ssoToken`` on any page (Frill's board takes it wherever it lands)."""

    name = "frill"
    cookie = "sso_session_frill"

    def options(self) -> dict[str, Any]:
        return {"service": frill()}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        path = (
            st.sampled_from(["/", "/b/ideas", "//evil.example/", "/%2F%2Fevil.example/", "/\\evil"]) | _PATHS
        )
        return st.builds(
            lambda m, p, q: Hostile(m, _path_bytes(p), q),
            _LOGIN_METHODS,
            path,
            queries(st.just([("ssoToken", token)])),
        )


class InvoicedStandIn(Verifier):
    """The token as the last path segment: ``/login/{token}``."""

    name = "invoiced"
    cookie = "sso_session_invoiced"
    keys = (Key(OTHER_KEY),)

    def options(self) -> dict[str, Any]:
        return {"service": services.invoiced(key=OTHER_KEY, company="acme")}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        tail = st.sampled_from(["", "", "/", "//", "/x", "?", "%2F"])
        return st.builds(
            lambda m, t, q: Hostile(m, _path_bytes("/login/" + token + t), q), _LOGIN_METHODS, tail, queries()
        )


class ConfirmReceiver(Verifier):
    """Emailed links with ``confirm=True``: the link's GET answers a page, the page's POST (token
    in the body, cross-site or not) signs in."""

    name = "confirm"

    def options(self) -> dict[str, Any]:
        return {"key": KEY, "confirm": True}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        site = st.sampled_from([(), (("Sec-Fetch-Site", "same-origin"),), (("Sec-Fetch-Site", "cross-site"),),
                                (("Origin", "null"),),
                                (("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-User", "?1"))])
        return st.builds(
            lambda m, q, body, h: Hostile(m, b"/sso", q, h, body if m == "POST" else b""),
            st.sampled_from(["POST"] * 4 + ["GET", "GET", "HEAD", "PUT"]),
            queries(st.just([("token", token)]) | st.just([("next", "/x")])),
            form_body("token", token),
            site,
        )


class ZendeskStandIn(Verifier):
    """The token POSTed in the form field ``jwt`` (Zendesk's ``/access/jwt``)."""

    name = "zendesk"
    cookie = "sso_session_zendesk"

    def options(self) -> dict[str, Any]:
        return {"service": services.zendesk(key=KEY, subdomain="acme")}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        content_type = st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "text/plain",
                "application/x-www-form-urlencoded; charset=utf-16",
            ]
        )
        return st.builds(
            lambda m, q, body, ct: Hostile(m, b"/access/jwt", q, (("Content-Type", ct),), body),
            st.sampled_from(["POST"] * 5 + ["GET", "PUT"]),
            queries(),
            form_body("jwt", token),
            content_type,
        )


class MintlifyStandIn(Verifier):
    """The token in the fragment: a bridge page, then a same-origin POST of ``token``."""

    name = "mintlify"
    cookie = "sso_session_mintlify"
    keys = (PAIRS["EdDSA"],)
    session_key = SESSION_KEY

    def options(self) -> dict[str, Any]:
        return {
            "service": services.mintlify(key=PAIRS["EdDSA"], docs="https://docs.acme.com"),
            "session_key": SESSION_KEY,
        }

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        return st.builds(
            lambda m, q, body: Hostile(m, b"/login/jwt-callback", q, (), body),
            st.sampled_from(["POST"] * 4 + ["GET", "HEAD"]),
            queries(),
            form_body("token", token),
        )


class IntercomStandIn(Verifier):
    """A token-endpoint service's stand-in: the token POSTed in the field ``token``."""

    name = "intercom"
    cookie = "sso_session_intercom"
    keys = (Key(INTERCOM),)

    def options(self) -> dict[str, Any]:
        return {"service": services.intercom(key=INTERCOM)}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        return st.builds(
            lambda m, q, body: Hostile(m, b"/", q, (), body),
            st.sampled_from(["POST"] * 4 + ["GET"]),
            queries(),
            form_body("token", token),
        )


@dataclass(frozen=True)
class ForumAnswer:
    """A Discourse provider's answer, drawn before the receiver (and its nonce key) exists."""

    request: Hostile
    issued: int
    our_key: bool
    fields: dict[str, str]
    nonce: str  # "ours", "given" (whatever fields hold), "none"
    cookie: str  # "same", "other", "non-ascii", "twice", "none", "raw"
    raw_cookie: str
    mode: str  # "answer", "start" (no answer: the round trip begins), "garbage" (payload not UTF-8)
    junk: str
    sig: str  # "right", "wrong", "upper"


@st.composite
def discourse_answers(draw: st.DrawFn) -> ForumAnswer:
    plain = st.just({"external_id": "7", "email": "ada@example.com", "username": "ada"})
    fields = draw(
        plain
        | plain
        | st.fixed_dictionaries(
            {"external_id": st.just("7") | _NASTY_TEXT},
            optional={
                "email": st.just("ada@example.com") | _NASTY_TEXT,
                "username": _NASTY_TEXT,
                "nonce": _NASTY_TEXT,
                "admin": _NASTY_TEXT,
                "return_sso_url": _URLS,
            },
        )
    )
    request = Hostile(
        draw(st.sampled_from(["GET"] * 8 + ["HEAD", "POST"])),
        _path_bytes(DiscourseStandIn.LOGIN),
        draw(queries()),
        draw(headers()),
        b"",
        draw(st.booleans()),
    )
    return ForumAnswer(
        request,
        draw(st.sampled_from([NOW, NOW - 700, NOW + 10, 0])),
        draw(st.sampled_from([True, True, False])),
        fields,
        draw(st.sampled_from(["ours", "ours", "ours", "given", "none"])),
        draw(st.sampled_from(["same", "same", "other", "non-ascii", "twice", "none", "raw"])),
        draw(_HEADER_TEXT),
        draw(st.sampled_from(["answer"] * 5 + ["start", "garbage"])),
        draw(st.sampled_from(["", "", "\n", "=", "%"])),
        draw(st.sampled_from(["right"] * 4 + ["wrong", "upper"])),
    )


class DiscourseStandIn(Verifier):
    """Discourse Connect as the forum: the round trip's start, and the provider's signed answer
    with this browser's nonce cookie (or another's, or a non-ASCII one)."""

    name = "discourse"
    cookie = "sso_session_discourse"
    keys = (Key(SECRET),)
    LOGIN = "/session/sso_login"

    def options(self) -> dict[str, Any]:
        return {"service": discourse(provider="https://app.acme.com/sso/discourse")}

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        """Not a JWT: the token text as the payload, with a signature of it or not."""
        signed = hmac.new(SECRET.encode(), token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        sig = st.sampled_from([signed, "0" * 64, ""]) | _LATIN1
        return st.builds(
            lambda m, s, q: Hostile(m, _path_bytes(self.LOGIN), q),
            _LOGIN_METHODS,
            sig,
            queries(sig.map(lambda s: [("sso", token), ("sig", s)])),
        )

    def plans(self) -> st.SearchStrategy[Any]:
        return discourse_answers() | verifier_requests(self)

    def requests(self, app: Any, plan: Any) -> list[Hostile]:
        """An answer's nonce is made with this very receiver's nonce key (or another)."""
        if not isinstance(plan, ForumAnswer):
            return plan  # type: ignore[no-any-return]
        base = plan.request
        if plan.mode == "start":
            return [base]
        key = app._nonce_key if plan.our_key else b"another-forum-nonce-key-0123456789"
        nonce = SignedPayload().new_nonce(key, plan.issued)
        fields = dict(plan.fields)
        if plan.nonce == "ours":
            fields["nonce"] = nonce
        elif plan.nonce == "none":
            fields.pop("nonce", None)
        raw = urlencode(
            [
                (k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
                for k, v in fields.items()
            ]
        ).encode()
        if plan.mode == "garbage":
            raw = raw[: len(raw) // 2] + b"\xff"
        payload = base64.b64encode(raw).decode() + plan.junk
        secret = b"another-forums-secret-0123" if plan.sig == "wrong" else SECRET.encode()
        sig = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
        query = urlencode({"sso": payload, "sig": sig.upper() if plan.sig == "upper" else sig})
        other = SignedPayload().new_nonce(app._nonce_key, NOW)
        value = {
            "same": nonce,
            "other": other,
            "non-ascii": nonce[:-1] + "\u00c3\u00a9",
            "twice": nonce,
            "none": None,
            "raw": plan.raw_cookie,
        }[plan.cookie]
        headers = base.headers
        if value is not None:
            name = app._sessions.name(base.https) + "_nonce"  # this receiver's nonce cookie
            headers += (
                ("Cookie", f"{name}={value}" + (f"; {name}={other}" if plan.cookie == "twice" else "")),
            )
        return [Hostile(base.method, base.path, query, headers, b"", base.https)]


class JWKSReceiver(Verifier):
    """A receiver with ``jwks_url``: every example fetches a fuzzed JWKS (through ``fetch=``)."""

    name = "jwks"
    keys = tuple(PAIRS.values())
    session_key = SESSION_KEY

    def __init__(self) -> None:
        self.body: bytes | Exception = b""

    def build(self, skin: Skin, clock: Clock) -> Any:
        def fetch(url: str, timeout: float) -> bytes:
            if isinstance(self.body, Exception):
                raise self.body
            return self.body

        # a fresh receiver per example: each example's first request fetches
        remote = RemoteKeys("https://app.acme.com/sso/.well-known/jwks.json", refresh_every=0, fetch=fetch)
        return skin.module.VerifierMiddleware(
            skin.echo, jwks_url=remote, session_key=SESSION_KEY, clock=clock
        )

    def login(self, token: str) -> st.SearchStrategy[Hostile]:
        return st.builds(
            lambda m, q: Hostile(m, b"/sso", q), _LOGIN_METHODS, queries(st.just([("token", token)]))
        )

    def plans(self) -> st.SearchStrategy[Any]:
        return st.tuples(jwks_bodies(), verifier_requests(self))

    def requests(self, app: Any, plan: Any) -> list[Hostile]:
        self.body = plan[0]
        return plan[1]  # type: ignore[no-any-return]


_JWK_MEMBERS = {
    "kty": st.sampled_from(["RSA", "EC", "OKP", "oct", "rsa", ""]) | _JSON,
    "use": st.sampled_from(["sig", "enc"]) | _JSON,
    "alg": _ALGS,
    "kid": st.sampled_from([k.kid for k in PAIRS.values()]) | _JSON,
    "crv": st.sampled_from(["P-256", "P-384", "Ed25519", "Ed448", "X25519", "secp256k1"]) | _JSON,
    "n": st.sampled_from(["", "AQAB", "_" * 400]) | _JSON | st.binary(max_size=300).map(_b64),
    "e": st.sampled_from(["AQAB", "AA", "", "AQ"]) | _JSON,
    "x": _JSON | st.binary(max_size=80).map(_b64),
    "y": _JSON | st.binary(max_size=80).map(_b64),
    "d": _JSON,
    "k": _JSON,
    "key_ops": _JSON,
    "x5c": _JSON,
}


@st.composite
def jwks_bodies(draw: st.DrawFn) -> bytes | Exception:
    """What a JWKS URL answers: the right keys, mangled ones, hostile JSON, junk, or a failure."""
    form = draw(st.sampled_from(["good", "good", "mangled", "mangled", "json", "bytes", "huge", "error"]))
    if form == "error":
        return draw(
            st.sampled_from(
                [
                    OSError("refused"),
                    TimeoutError("slow"),
                    ValueError("x"),
                    ConnectionResetError(),
                    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x"),
                ]
            )
        )
    if form == "bytes":
        return draw(st.binary(max_size=100))
    if form == "huge":
        return b'{"keys":[' + b'{"kty":"RSA"},' * 6000 + b"{}]}"
    real = [k.public_jwk() for k in PAIRS.values()]
    if form == "good":
        return json.dumps({"keys": draw(st.permutations(real))}).encode()
    if form == "mangled":
        keys: list[Any] = []
        for jwk in draw(st.lists(st.sampled_from(real), min_size=1, max_size=4)):
            changed = draw(st.dictionaries(st.sampled_from(list(_JWK_MEMBERS)), st.none(), max_size=3))
            keys.append({**jwk, **{name: draw(_JWK_MEMBERS[name]) for name in changed}})
        keys += draw(st.lists(_JSON, max_size=2))
        return json.dumps({"keys": keys}).encode("utf-8", "surrogatepass")
    return draw(
        json_bytes(
            st.fixed_dictionaries({"keys": st.lists(_JSON, max_size=3)})
            | st.dictionaries(_NASTY_TEXT, _JSON, max_size=2)
        )
    )


# -- the OpenID Connect provider ------------------------------------------------------------------

OP_SECRET = "fuzz-oidc-client-secret-0123456789abcdef"
OP_CB = "https://grafana.acme.com/login/generic_oauth"
OP_WIKI = "https://wiki.acme.com/cb"
OP_SPA = "http://localhost:3000/cb"
OP_OUT = "https://grafana.acme.com/login"
_VERIFIER = "v" * 43
_CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(_VERIFIER.encode()).digest()).rstrip(b"=").decode()
_REAL = ("<code>", "<login-mark>", "<consent-mark>", "<logout-mark>", "<id-token>", "<access-token>")
"""Placeholders a plan may hold, replaced by real codes, marks and tokens of the app it is sent to."""
_OP_NAMES = [
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "max_age", "response_mode", "request", "request_uri", "sso_login",
    "sso_consent", "sso_logout", "decision", "grant_type", "code", "code_verifier", "client_secret",
    "id_token_hint", "post_logout_redirect_uri", "logout_hint", "resource", "rel",
]
_OP_VALUES = st.one_of(
    st.sampled_from([
        "code", "grafana", "wiki", "spa", "nobody", OP_CB, OP_WIKI, OP_SPA, OP_OUT, OP_CB + "/", "openid",
        "openid email profile groups", "email", "login", "none", "consent", "none login", "select_account",
        "0", "600", "-1", "1e3", "99999999999999", "\u00b2", "\u0661\u0662", "\uff16\uff10", "S256", "plain",
        _CHALLENGE, _VERIFIER, "allow", "deny",
        "authorization_code", "refresh_token", OP_SECRET, "acct:ada@example.com", "acct:@example.com",
        "acct:ada@evil.com", "acct:ada%40x@EXAMPLE.com", "mailto:ada@example.com",
        "http://openid.net/specs/connect/1.0/issuer", "query", "fragment", *_REAL, *_REAL,
    ]),
    _NASTY_TEXT,
    _URLS,
)
OP_PATHS = (
    "/sso/oidc/authorize", "/sso/oidc/authorize", "/sso/oidc/token", "/sso/oidc/userinfo", "/sso/oidc/logout",
    "/sso/oidc/logout", "/sso/.well-known/openid-configuration", "/sso/.well-known/jwks.json",
    "/.well-known/webfinger", "/sso/oidc/", "/sso/oidc/authorize/",
)
OP_CODES = frozenset({
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "invalid_token", "unknown_client", "redirect_uri_mismatch", "invalid_logout_request",
    "invalid_resource", "unknown_resource",
})


def _op_user(request: Any) -> Any:
    """The hostile users of :func:`_users`, signed in at the time X-Auth-Time says (or not)."""
    user = _users(request)
    stamp = request.headers.get("x-auth-time")
    if user is None or stamp is None:
        return user
    try:
        when: Any = float(stamp)
    except ValueError:
        when = stamp
    return {**user, "auth_time": when}


def _ended(request: Any) -> list[tuple[str, str]]:
    return [("Set-Cookie", "app=; Max-Age=0; Path=/")]


@st.composite
def provider_requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request to a provider path: a well-formed authorization, token, logout or WebFinger
    request (now and then with real codes, marks and tokens) with some parameters dropped,
    replaced or repeated, in the query or a form body, with hostile headers."""
    client = draw(st.sampled_from([("grafana", OP_CB), ("wiki", OP_WIKI), ("spa", OP_SPA)]))
    base = [
        ("response_type", "code"), ("client_id", client[0]), ("redirect_uri", client[1]),
        ("scope", "openid email profile groups"), ("state", "st"), ("nonce", "n"),
        ("code_challenge", _CHALLENGE), ("code_challenge_method", "S256"),
        ("grant_type", "authorization_code"), ("code", "<code>"), ("code_verifier", _VERIFIER),
        ("id_token_hint", "<id-token>"), ("post_logout_redirect_uri", OP_OUT),
        ("resource", "acct:ada@example.com"),
    ]
    kept = [pair for pair in base if draw(st.integers(0, 4))]
    extra = draw(st.lists(st.tuples(st.sampled_from(_OP_NAMES) | _NASTY_TEXT, _OP_VALUES), max_size=4))
    pairs = [(k, draw(_OP_VALUES) if draw(st.integers(0, 5)) == 0 else v) for k, v in kept] + extra
    found = list(draw(headers(cookie_header(["app", "session"], _LATIN1))))
    if draw(st.booleans()):
        found.append(("X-Auth-Time", draw(st.sampled_from(["1799999000", "1800000000", "1e309", "nan", "-5",
                                                            "true", "1799990000.5", "4e12", "\u00b2"]))))
    auth = draw(st.sampled_from([None, "basic", "bearer", "junk"]))
    return {
        "path": draw(st.sampled_from(OP_PATHS)),
        "method": draw(st.sampled_from(["GET"] * 6 + ["POST"] * 4 + ["HEAD", "PUT", "OPTIONS"])),
        "pairs": pairs,
        "in_body": draw(st.booleans()),
        "form": draw(st.sampled_from(["application/x-www-form-urlencoded"] * 4 + [None, "text/plain"])),
        "headers": found,
        "auth": auth,
        "age": draw(st.sampled_from([0, 30, 3600, 86400 * 40])),
        "subject": draw(st.sampled_from(["7", "u-2", "8"]) | _NASTY_TEXT),
        "tail": draw(st.sampled_from(["", "", "", "&", "&%zz", "&x=%ff", "&" + "a" * 9000])),
    }


class Provider(Target):
    """The issuer as an OpenID Connect provider: a trusted confidential client with logout URIs, an
    untrusted one (consent), a public one (PKCE), RP-initiated logout and WebFinger; requests carry
    real codes, marks, ID tokens and access tokens made for their own (hostile) parameters."""

    name = "openid-provider"
    codes = OP_CODES

    def build(self, skin: Skin, clock: Clock) -> Any:
        from sso_middleware.oidc import Client, OpenIDProvider

        provider = OpenIDProvider(
            issuer="http://localhost/sso",
            key=[PAIRS["RS256"], PAIRS["ES256"]],
            clients=[
                Client(
                    "grafana", secret=OP_SECRET, redirect_uris=[OP_CB], post_logout_redirect_uris=[OP_OUT]
                ),
                Client("wiki", secret=OP_SECRET, redirect_uris=[OP_WIKI], trusted=False, algorithm="ES256"),
                Client("spa", redirect_uris=[OP_SPA]),
            ],
            end_session=_ended,
            webfinger_domains=["example.com"],
        )
        return skin.module.IssuerMiddleware(
            skin.echo, services=[], user=_op_user, login_url="/login", clock=clock, openid=provider
        )

    def plans(self) -> st.SearchStrategy[Any]:
        return provider_requests()

    def requests(self, app: Any, plan: Any) -> list[Hostile]:
        from sso_middleware.oidc.codes import Grant
        from sso_middleware.oidc.marks import bound

        context = app.openid._context
        params = dict(plan["pairs"])
        grant = Grant(
            params.get("client_id", "grafana"),
            params.get("redirect_uri", OP_CB),
            ("openid", "email"),
            {"sub": plan["subject"], "email": "ada@example.com"},
            NOW,
            NOW + 60,
            params.get("nonce"),
            params.get("code_challenge"),
        )
        access = context.minter.access_token(grant, NOW - plan["age"])
        real = {
            "<code>": context.codes.seal(grant),
            "<login-mark>": context.marks.make("login", "a", bound(params), NOW - 10),
            "<consent-mark>": context.marks.make("consent", "c", bound(params, plan["subject"], "wiki"), NOW),
            "<logout-mark>": context.marks.make("logout", "o", bound(params, plan["subject"]), NOW),
            "<id-token>": context.minter.id_token(grant, "RS256", NOW - plan["age"], access),
            "<access-token>": access,
        }
        pairs = [(k, real.get(v, v)) for k, v in plan["pairs"]]
        encoded = urlencode(
            [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
        ) + plan["tail"]
        found = list(plan["headers"])
        if plan["form"] is not None:
            found.append(("Content-Type", plan["form"]))
        if plan["auth"] == "basic":
            basic = base64.b64encode(f"grafana:{OP_SECRET}".encode()).decode()
            found.append(("Authorization", "Basic " + basic))
        elif plan["auth"] == "bearer":
            found.append(("Authorization", "Bearer " + access))
        elif plan["auth"] == "junk":
            found.append(("Authorization", "Bearer a.b.c d"))
        body = encoded.encode("latin-1", "replace") if plan["in_body"] else b""
        query = "" if plan["in_body"] and plan["method"] == "POST" else encoded
        return [Hostile(plan["method"], _path_bytes(plan["path"]), query, tuple(found), body)]


TARGETS: list[Target] = [
    Issuer(),
    Provider(),
    Generic(),
    FrillStandIn(),
    InvoicedStandIn(),
    ZendeskStandIn(),
    ConfirmReceiver(),
    DiscourseStandIn(),
    MintlifyStandIn(),
    IntercomStandIn(),
    JWKSReceiver(),
]
LONG_EXAMPLES = math.ceil(LONG_TOTAL / (2 * len(TARGETS)))
SIZES = [
    pytest.param(DEFAULT_EXAMPLES, id="ci"),
    pytest.param(LONG_EXAMPLES, id="long", marks=pytest.mark.slow),
]


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if _SENT:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        line = (
            f"test_fuzz: {sum(_SENT.values()):,} hostile inputs sent ("
            + ", ".join(f"{name} {count:,}" for name, count in sorted(_SENT.items()))
            + ")"
        )
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():  # to the terminal, also when all passed
                reporter.write_line(line)


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_no_request_makes_the_middleware_raise(
    skin: Skin, target: Target, examples: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(100)  # refusals log at INFO: keep a long run's memory flat
    label = f"{target.name}-{skin.name}"
    sent = 0

    @_settings(examples)
    @given(target.plans())
    def example(plan: Any) -> None:
        nonlocal sent
        app = target.build(skin, Clock(NOW))  # fresh per example: each answer depends on its input alone
        for request in target.requests(app, plan):
            sent += 1
            check_answer(request, call(skin, app, request), codes=target.codes)

    example()
    _SENT[label] = _SENT.get(label, 0) + sent
    assert sent >= examples


# -- the command line -----------------------------------------------------------------------------

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> bool:
    """Nothing a terminal would act on: no control character but the line break, no bidi control."""
    return not any((unicodedata.category(c) == "Cc" and c != "\n") or c in _BIDI for c in text)


def run_cli(*argv: str) -> tuple[int, str]:
    """The command's exit code and output, as a terminal in a UTF-8 locale takes it (strictly)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(list(argv))
        except SystemExit as e:
            code = e.code  # type: ignore[assignment]
    assert code in (0, 1, 2), code
    return code, out.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


_CLI_TOKENS = tokens((Key(CLI_KEY),)).filter(lambda t: "\x00" not in t)
_AT = st.sampled_from([None, "1800000000", "0", "-1", "1e20", "-1e300", "1e308", "nan", "inf", "-inf",
                       "\u00b2", "\u0661\u0662"])
_CLAIM_VALUES = st.one_of(
    _NASTY_TEXT,
    st.sampled_from(_RAW_JSON),
    _JSON.map(json.dumps),
    st.sampled_from(["NaN", "1e400", "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000, "2e308"]),
).filter(lambda t: "\x00" not in t)


@st.composite
def cli_runs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(["decode", "decode-json", "verify", "explain", "verify-json", "mint"]))
    if command == "mint":
        argv = ["mint", "generic", "--key-env", "FUZZ_KEY"]
        for _ in range(draw(st.integers(0, 3))):
            name = draw(
                st.sampled_from(["sub", "exp", "iat", "nbf", "jti", "x"])
                | _NASTY_TEXT.filter(lambda t: "\x00" not in t and "=" not in t)
            )
            argv += ["--claim", f"{name}={draw(_CLAIM_VALUES)}"]
        argv += draw(
            st.sampled_from(
                [
                    [],
                    ["--json"],
                    ["--ttl", "999999999999999999999"],
                    ["--ttl", "-5"],
                    ["--ttl", "\u00b2"],
                    ["--ttl", "\u0661\u0662"],
                    ["--algorithm", "HS512"],
                    ["--algorithm", "none"],
                ]
            )
        )
        return argv
    token = draw(_CLI_TOKENS)
    if command.startswith("decode"):
        return ["decode", "--", token, *(["--json"] if command == "decode-json" else [])]
    argv = ["verify", "--key-env", "FUZZ_KEY"]
    at = draw(_AT)
    if at is not None:
        argv.append(f"--at={at}")
    argv += draw(
        st.sampled_from(
            [
                [],
                ["--typ", "JWT"],
                ["--issuer", "x"],
                ["--audience", "a"],
                ["--max-age", "60"],
                ["--identity", "id"],
                ["--algorithm", "HS256"],
            ]
        )
    )
    argv += {"explain": ["--explain"], "verify-json": ["--json"], "verify": []}[command]
    return [*argv, "--", token]


@pytest.mark.parametrize("examples", SIZES)
def test_no_token_or_claim_makes_the_cli_raise(examples: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUZZ_KEY", CLI_KEY)
    monkeypatch.setenv("NO_COLOR", "1")
    sent = 0

    @_settings(examples)
    @given(cli_runs())
    def example(argv: list[str]) -> None:
        nonlocal sent
        sent += 1
        _, output = run_cli(*argv)
        if argv[0] in ("decode", "verify"):  # what is printed from a token is escaped
            assert _printable(output), output

    example()
    _SENT["cli"] = _SENT.get("cli", 0) + sent
    assert sent >= examples


# -- pinned: what the fuzz found -----------------------------------------------------------------


def _signed(claims: dict[str, Any]) -> str:
    from sso_middleware.tokens import sign

    return sign(claims, Key(CLI_KEY))


def test_a_deeply_nested_claim_value_is_a_usage_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # found by the fuzz: --claim values are parsed as JSON, and nesting deeper than the interpreter's
    # recursion limit raised RecursionError out of main()
    monkeypatch.setenv("FUZZ_KEY", CLI_KEY)
    code, _ = run_cli("mint", "generic", "--key-env", "FUZZ_KEY", "--claim", "sub=" + "[" * 3000 + "]" * 3000)
    assert code in (0, 2)


@pytest.mark.parametrize("at", ["nan", "inf", "-inf"])
def test_verify_at_a_time_that_is_no_time_never_accepts(monkeypatch: pytest.MonkeyPatch, at: str) -> None:
    # found by the fuzz: --at nan makes every time comparison false, so an expired token was
    # "accepted as a receiver would" (exit 0)
    monkeypatch.setenv("FUZZ_KEY", CLI_KEY)
    expired = _signed({"sub": "ada", "iat": 900, "exp": 1000})
    code, output = run_cli("verify", "--key-env", "FUZZ_KEY", f"--at={at}", "--", expired)
    assert code != 0 and "accepted" not in output


def test_discourse_answer_with_a_non_ascii_nonce_cookie_is_refused(skin: Skin) -> None:
    # known defect 4 of issue 22, pinned here too (the fuzz meets it about once in 150 examples)
    forum = DiscourseStandIn()
    app = forum.build(skin, Clock(NOW))
    plan = ForumAnswer(
        Hostile("GET", _path_bytes(DiscourseStandIn.LOGIN), headers=(("Accept", "application/json"),)),
        NOW,
        True,
        {"external_id": "7", "email": "ada@example.com", "username": "ada"},
        "ours",
        "non-ascii",
        "",
        "answer",
        "",
        "right",
    )
    (request,) = forum.requests(app, plan)
    status, _, body = call(skin, app, request)
    assert status == 401 and json.loads(body)["error"] == "token_invalid_claim"


@pytest.mark.parametrize("alg", [[], {}, ["HS256"]], ids=["list", "object", "list-of-name"])
def test_a_header_whose_alg_is_no_string_is_refused_on_every_placement(skin: Skin, alg: Any) -> None:
    # known defect 1 of issue 22: with a signature of a length no key makes
    header = _b64(json.dumps({"alg": alg}).encode())
    token = f"{header}.{_b64(b'{}')}.AA"
    for target in (Generic(), FrillStandIn(), JWKSReceiver()):
        app = target.build(skin, Clock(NOW))
        if isinstance(target, JWKSReceiver):
            target.body = json.dumps({"keys": [k.public_jwk() for k in PAIRS.values()]}).encode()
        request = Hostile(
            "GET", b"/sso", f"token={token}&ssoToken={token}", (("Accept", "application/json"),)
        )
        status, _, body = call(skin, app, request)
        assert status == 401 and json.loads(body)["error"] == "token_algorithm_not_allowed", target.name
        cookie = (("Cookie", f"{target.cookie}={token}"),)
        assert call(skin, app, Hostile("GET", b"/page", headers=cookie))[0] == 200
