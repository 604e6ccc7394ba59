"""``sso-middleware verify``: a receiver's checks on a token, one by one with ``--explain``
(the words come from :mod:`sso_middleware.cli.explain`)."""

from __future__ import annotations

import argparse
import json
import math
import time
from http.client import HTTPException
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ._common import (
    OK,
    REFUSED,
    Out,
    Problem,
    UsageError,
    add_key_options,
    pairs,
    read_key,
    read_token,
)
from ._presets import receiving_service

if TYPE_CHECKING:
    from ..keys import Key, KeyInput
    from ..service import Service
    from ..tokens import TokenPolicy
    from .explain import Report

HELP = "run a receiver's checks on a token, one by one with --explain"
EXAMPLES = (
    "sso-middleware verify \"$TOKEN\" --key-env APPS_SSO_KEY --explain",
    "sso-middleware verify \"$TOKEN\" --key-env INVOICED_SSO_KEY --service invoiced --explain",
    "sso-middleware verify \"$TOKEN\" --key-env USERJOT_SSO_KEY --service userjot --option project_id=p-123",
    "sso-middleware verify \"$TOKEN\" --jwks-url https://app.acme.com/sso/.well-known/jwks.json "
    "--service grafana --explain",
)


def add_arguments(verify: argparse.ArgumentParser) -> None:
    verify.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    add_key_options(verify)
    verify.add_argument("--jwks-url", metavar="URL", help="verify with the public keys published there "
                        "(a JWKS, e.g. https://app.acme.com/sso/.well-known/jwks.json)")
    verify.add_argument("--service", metavar="PRESET", help="receive as this preset does")
    verify.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a preset option that changes what it accepts, e.g. project_id=p-123 "
                        "(userjot's iss); one that only says where the browser goes (invoiced's "
                        "company, frill's hosts) is not needed; the command names any it needs")
    verify.add_argument("--explain", action="store_true", help="print every check with what it saw")
    verify.add_argument("--algorithm", action="append", metavar="ALG", help="accepted algorithm (repeatable)")
    verify.add_argument("--issuer", action="append", metavar="ISS", help="accepted iss (repeatable)")
    verify.add_argument("--audience", metavar="AUD", help="required aud")
    verify.add_argument("--typ", help="required typ header")
    verify.add_argument("--identity", action="append", metavar="CLAIM", help="claim naming the user")
    verify.add_argument("--leeway", type=float, default=30.0, help="clock skew tolerated, seconds")
    verify.add_argument("--max-lifetime", type=float, default=86400.0, help="longest validity, seconds")
    verify.add_argument("--max-age", type=float, help="accept iat without exp for this long")
    verify.add_argument("--strict", action="store_true", help="require exp even where the service does not")
    verify.add_argument("--at", type=_unix_time, metavar="UNIX_TIME", help="check as of this time")
    verify.add_argument("--json", action="store_true", help="print JSON")


def execute(args: argparse.Namespace, out: Out) -> int:
    from .explain import explain

    token = read_token(args.token)
    key, skipped = _keys(args)
    now = time.time() if args.at is None else args.at
    service, policy = _receiver(args, key)
    report = explain(token, policy, now)
    if args.json:
        out.line(json.dumps({
            "ok": report.error is None, "error": None if report.error is None else report.error.code,
            "steps": [{"check": s.name, "ok": s.ok, "detail": s.detail, "code": s.code}
                      for s in report.steps],
            **({"jwks_skipped": skipped} if args.jwks_url else {}),
        }))
        return OK if report.error is None else REFUSED
    for reason in skipped:
        out.line(f"note: skipped in the JWKS: {reason}")
    if args.explain:
        for step in report.steps:
            out.line(f"{out.mark(step.ok)}  {step.name:<9} {step.detail}"
                     + (f"  [{step.code}]" if step.code else ""))
    return _verdict(report, service.name, out)


def _keys(args: argparse.Namespace) -> tuple[KeyInput, list[str]]:
    """The key given, or the keys the JWKS at ``--jwks-url`` publishes (and what it skipped)."""
    if args.jwks_url is None:
        return read_key(args, also="--jwks-url URL (the keys a JWKS publishes)"), []
    if args.key_env or args.key_file or args.key:
        raise UsageError("give a key or --jwks-url, not both")
    return _published_keys(args.jwks_url)


def _receiver(args: argparse.Namespace, key: KeyInput) -> tuple[Service, TokenPolicy]:
    """The service received as (a preset, or a generic receiver) and its policy with the options
    given; a preset asks only for the options that change what it accepts."""
    policy_options = {"algorithms": args.algorithm or None, "leeway": args.leeway, "max_lifetime":
                      args.max_lifetime, "max_age": args.max_age, "strict": args.strict, "issuer":
                      args.issuer or None, "audience": args.audience, "typ": args.typ,
                      "identity": args.identity or None}

    def accepts(service: Service) -> TokenPolicy:
        return service.receiving_policy(**policy_options)

    if args.service:
        return receiving_service(args.service, pairs(args.option, "--option"), key, accepts)
    from ..flows import generic_receiver

    try:
        service = generic_receiver(key, "/sso", None, args.algorithm or None)
        return service, accepts(service)
    except ConfigurationError as e:
        raise UsageError(e.message) from e


def _verdict(report: Report, name: str, out: Out) -> int:
    if report.error is None:
        out.line(f"{out.mark(True)}  accepted as a receiver for {name!r} would "
                 "(one-time use is checked by the receiver, not here)")
        return OK
    failed = next((s for s in report.steps if s.ok is False), None)
    reason = f": {failed.detail}" if failed is not None else ""
    out.line(f"{out.mark(False)}  refused: {report.error.code}{reason}")
    return REFUSED


def _published_keys(url: str) -> tuple[list[Key], list[str]]:
    """The usable keys of the JWKS at ``url`` (fetched as a verifier fetches it), and why
    any other key in it was skipped."""
    from ..jwks import RemoteKeys, fetch_url, parse

    try:
        remote = RemoteKeys(url, timeout=5.0)  # the URL rules a verifier's jwks_url follows
    except ConfigurationError as e:
        raise UsageError(e.message) from e
    try:
        keys, skipped = parse(fetch_url(remote.url, remote.timeout))
    except (OSError, ValueError, HTTPException) as e:
        raise Problem(f"could not fetch the JWKS at {url}: {type(e).__name__}: {e}") from e
    return list(keys.keys), skipped


def _unix_time(text: str) -> float:
    """``--at``: a finite number of seconds (NaN compares false with every date, so a token would
    never be expired at it)."""
    try:
        value = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from e
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time")
    return value

