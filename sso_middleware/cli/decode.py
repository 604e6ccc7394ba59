"""``sso-middleware decode``: a token's header and claims, with dates, WITHOUT verifying it."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ._common import OK, REFUSED, Out, read_token

HELP = "show a token's header and claims, with dates, WITHOUT verifying it"
EXAMPLES = ("sso-middleware decode eyJhbGciOi...", "pbpaste | sso-middleware decode -")


def add_arguments(decode: argparse.ArgumentParser) -> None:
    decode.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    decode.add_argument("--json", action="store_true", help="print JSON")


def execute(args: argparse.Namespace, out: Out) -> int:
    from ..tokens import peek

    token, now = read_token(args.token), time.time()
    parts = peek(token)
    if parts is None:
        out.line("not a JWT: expected three base64url segments of JSON objects (header.claims.signature)")
        return REFUSED
    header, claims = parts
    signature = token.rsplit(".", 1)[1]
    times = _times(claims, now)
    if args.json:
        out.line(json.dumps({"verified": False, "header": header, "claims": claims, "times": times}))
        return OK
    out.line("NOT VERIFIED: decoded without checking the signature (use verify --explain for that).")
    out.line("header")
    for name, value in header.items():
        out.line(f"  {_printable(name)}: {json.dumps(value)}")
    out.line("claims")
    for name, value in claims.items():
        shown = f"  {_printable(name)}: {json.dumps(value)}"
        out.line(shown + (f"   {times[name]}" if name in times else ""))
    out.line(f"signature: {len(signature)} characters, not shown")
    return OK


def _times(claims: dict[str, Any], now: float) -> dict[str, str]:
    from ..dates import number, when

    found = {name: number(claims, name) for name in ("iat", "nbf", "exp")}
    times = {name: when(value, now) for name, value in found.items() if value is not None}
    exp, nbf, iat = found["exp"], found["nbf"], found["iat"]
    for name, late, word in (("exp", exp is not None and exp <= now, "EXPIRED"),
                             ("nbf", nbf is not None and nbf > now, "NOT YET VALID"),
                             ("iat", iat is not None and iat > now, "issued in the future")):
        if late:
            times[name] += f": {word}"
    return times


def _printable(text: str) -> str:
    """``text`` with every character a terminal could act on (ESC, CR, bidi controls, lone
    surrogates) written as its escape: a hostile token's member names must not drive the
    terminal or forge a line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)

