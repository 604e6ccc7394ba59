"""The floors every figure is set against, measured in the same run as the figure.

- ``Empty`` / ``EmptyWSGI``: a layer that only passes the call on (the least any middleware
  costs); ``two_empty`` stacks two, as many layers as issuer + verifier;
- ``Lookup`` / ``LookupWSGI``: a layer that looks the path up in a dict and passes the call on
  (the least a middleware that owns some paths can do);
- ``raw_sign`` / ``raw_verify``: HS256 written by hand on the standard library (json, base64url,
  ``hmac.digest``), the header segment computed once, as a careful hand-written signer would.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any


class Empty:
    """A pure-ASGI layer that only passes the call on: the floor of any middleware."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class EmptyWSGI:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


class Lookup:
    """A pure-ASGI layer that owns a few paths (looked up in a dict) and passes the rest on."""

    def __init__(self, app: Any, paths: Mapping[str, Any] | None = None) -> None:
        self.app = app
        self.paths = dict(paths or {"/sso/frill": None})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("path") in self.paths:
            raise NotImplementedError  # (never reached: the benchmarks call other paths)
        await self.app(scope, receive, send)


class LookupWSGI:
    def __init__(self, app: Any, paths: Mapping[str, Any] | None = None) -> None:
        self.app = app
        self.paths = dict(paths or {"/sso/frill": None})

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if environ.get("PATH_INFO") in self.paths:
            raise NotImplementedError
        return self.app(environ, start_response)


def two_empty(app: Any) -> Any:
    return Empty(Empty(app))


def two_empty_wsgi(app: Any) -> Any:
    return EmptyWSGI(EmptyWSGI(app))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


_HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}') + b"."


def raw_sign(claims: Mapping[str, Any], secret: bytes) -> str:
    """HS256 by hand: the header segment precomputed, compact JSON, one-shot HMAC."""
    signing_input = _HEADER + _b64(json.dumps(claims, separators=(",", ":")).encode())
    return (signing_input + b"." + _b64(hmac.digest(secret, signing_input, "sha256"))).decode("ascii")


def raw_verify(token: str, secret: bytes) -> dict[str, Any]:
    """HS256 checked by hand: header ``alg``, the signature (constant time), ``exp``."""
    signing_input, _, signature = token.rpartition(".")
    header, _, payload = signing_input.partition(".")
    if json.loads(_unb64(header)).get("alg") != "HS256":
        raise ValueError("alg")
    expected = hmac.digest(secret, signing_input.encode("ascii"), "sha256")
    if not hmac.compare_digest(_unb64(signature), expected):
        raise ValueError("signature")
    claims: dict[str, Any] = json.loads(_unb64(payload))
    if not claims["exp"] > time.time():
        raise ValueError("expired")
    return claims
