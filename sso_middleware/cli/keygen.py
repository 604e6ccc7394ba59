"""``sso-middleware keygen``: a random secret of the right length, or a key pair."""

from __future__ import annotations

import argparse
import json
import os
import secrets

from ..errors import ConfigurationError
from ._common import OK, Out, UsageError

HELP = "make a random secret of the right length, or a key pair"
EXAMPLES = (
    "sso-middleware keygen",
    "sso-middleware keygen --algorithm HS512 --out helpscout.key",
    "sso-middleware keygen --algorithm RS256 --out freshworks.pem",
)
_LENGTHS = {"HS256": 32, "HS384": 48, "HS512": 64}


def add_arguments(keygen: argparse.ArgumentParser) -> None:
    keygen.add_argument("--algorithm", default="HS256",
                        help="HS256 (32 bytes), HS384 (48), HS512 (64); or a key pair: RS256, PS256, "
                             "ES256, ES384, EdDSA, Ed25519, Ed448, ... (needs --out)")
    keygen.add_argument("--out", metavar="PATH",
                        help="write it to a new file (mode 600) instead (a key pair: its private key)")
    keygen.add_argument("--json", action="store_true", help="print JSON")


def execute(args: argparse.Namespace, out: Out) -> int:
    from ..keys import ALGORITHMS

    if args.algorithm not in ALGORITHMS:
        raise UsageError(f"--algorithm {args.algorithm}: use one of {', '.join(sorted(ALGORITHMS))}")
    if args.algorithm not in _LENGTHS:
        return _keygen_pair(args, out)
    secret = secrets.token_urlsafe(_LENGTHS[args.algorithm])  # >= that many bytes, as many of entropy
    if args.out:
        _write_new(args.out, secret + "\n")
        out.line(f"wrote a {args.algorithm} secret to {args.out} (mode 600)")
    elif args.json:
        out.line(json.dumps({"algorithm": args.algorithm, "secret": secret}))
    else:
        out.line(secret)
    return OK


def _keygen_pair(args: argparse.Namespace, out: Out) -> int:
    """A key pair: the private key to a new file (never to the terminal), the public half shown."""
    from ..keys import Key

    if not args.out:
        raise UsageError(f"{args.algorithm} makes a key pair: give --out PATH for the private key "
                         "(it is never printed); the public half is printed")
    try:
        key = Key.generate(args.algorithm)
    except ConfigurationError as e:
        raise UsageError(e.message) from e
    _write_new(args.out, key.private_pem().decode("ascii"))
    jwk, pem = key.public_jwk(), key.public_pem().decode("ascii")
    if args.json:
        out.line(json.dumps({"algorithm": args.algorithm, "kid": key.kid, "private_key_file": args.out,
                             "public_jwk": jwk, "public_pem": pem}))
        return OK
    out.line(f"wrote the {args.algorithm} private key to {args.out} (mode 600); its kid is {key.kid}")
    out.line("public key (PEM, for a service's settings page):")
    out.line(pem.rstrip("\n"))
    out.line("public key (JWK; your issuer publishes it at {prefix}/.well-known/jwks.json):")
    out.line(json.dumps(jwk))
    return OK


def _write_new(path: str, text: str) -> None:
    """Write ``text`` to a new file only its owner can read; never over an existing one."""
    try:  # created 0600 in one step (as ssh-keygen does): no moment when another user can open it
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise UsageError(f"{path} exists; keygen never writes over a file") from e
    except OSError as e:
        raise UsageError(f"cannot create {path}: {e.strerror}") from e
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(text)

