"""``sso-middleware mint``: sign a token for a preset (and show where the browser would go) or claims."""

from __future__ import annotations

import argparse
import json
import secrets
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, SSOError
from ..principal import Principal
from ._common import OK, REFUSED, Out, UsageError, add_key_options, pairs, read_key
from ._presets import check_attributes, preset_service

HELP = ("sign a token for a preset (and show where the browser would go) or claims, or make an "
        "emailed sign-in link (--link)")
EXAMPLES = (
    "sso-middleware mint frill --key-env FRILL_SSO_KEY --option hosts=feedback.acme.com \\",
    "    --user-json '{\"id\": 7, \"email\": \"ada@example.com\", \"name\": \"Ada\"}' \\",
    "    --query 'redirect=https://feedback.acme.com/b/ideas'",
    "sso-middleware mint generic --key-env APPS_SSO_KEY --claim sub=ada --claim plan=pro",
    "sso-middleware mint --link https://app.acme.com/sso --key-env APPS_SSO_KEY \\",
    "    --user-json '{\"id\": 7, \"email\": \"ada@example.com\"}' --next /invoices/7 --audience invoice",
)


def add_arguments(mint: argparse.ArgumentParser) -> None:
    mint.add_argument("service", metavar="SERVICE", nargs="?",
                      help="a preset (frill, invoiced, ...) or 'generic' (none with --link)")
    add_key_options(mint)
    mint.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                      help="a preset option, e.g. hosts=feedback.acme.com or company=acme")
    mint.add_argument("--user-json", metavar="JSON", help="the user as JSON (or @file): id, email, name, ...")
    mint.add_argument("--claim", action="append", default=[], metavar="NAME=VALUE",
                      help="a claim (generic) or an extra claim (preset); JSON values are parsed")
    mint.add_argument("--query", help="the login request's query, e.g. 'redirect=https://...'")
    mint.add_argument("--algorithm", help="generic only: HS256 (default for a secret), HS384, HS512, "
                      "or what a key pair signs (its type's default: RS256, ES256, EdDSA)")
    mint.add_argument("--ttl", type=int, help="generic: lifetime in seconds (default 300); "
                      "--link: 60 to 86400 (default 900)")
    mint.add_argument("--link", metavar="URL", help="make an emailed sign-in link to the verifier at "
                      "URL (https://app.acme.com/sso) for --user-json; see sso_middleware.links")
    mint.add_argument("--next", metavar="PATH", help="--link: the same-site path to land on")
    mint.add_argument("--audience", help="--link: the link's purpose (its aud); the verifier's audience=")
    mint.add_argument("--typ", help="--link: the token's typ header; the verifier's typ=")
    mint.add_argument("--token-only", action="store_true", help="print only the token")
    mint.add_argument("--json", action="store_true", help="print JSON")


def execute(args: argparse.Namespace, out: Out) -> int:
    from ..tokens import sign

    key, claims, now = read_key(args), pairs(args.claim, "--claim"), time.time()
    if args.link is not None:
        return _link(args, key, claims, out)
    if args.service is None:
        raise UsageError("give a SERVICE (a preset or 'generic'), or --link URL")
    if args.service == "generic":
        from ..keys import Key

        body = {**claims}
        body.setdefault("iat", int(now))
        body.setdefault("exp", int(now) + (300 if args.ttl is None else args.ttl))
        body.setdefault("jti", secrets.token_urlsafe(16))
        try:
            token = sign(body, Key(key, algorithm=args.algorithm))
        except (ConfigurationError, TypeError, ValueError) as e:
            raise UsageError(f"cannot sign these claims: {e}") from e
        out.line(json.dumps({"token": token}) if args.json else token)
        return OK
    options = pairs(args.option, "--option")
    if claims:
        options["extra_claims"] = claims
    service = preset_service(args.service, options, key)
    user = _user(args)
    check_attributes(args.service, options, user)
    try:
        token, reply = service.issue(service.prepare(args.query or ""), user, now)
    except SSOError as e:
        out.line(f"refused: {e.code}: {e.message}" + (f" ({e.detail})" if e.detail else ""))
        return REFUSED
    if args.token_only:
        out.line(token)
        return OK
    where = dict(reply.headers).get("Location")
    result: dict[str, Any]
    if where is None:  # an auto-submitting form: show where it posts and what
        from ..messages import FormReader

        form = FormReader()
        form.feed(reply.body.decode())
        result = {"method": "POST", "url": form.action, "fields": dict(form.fields), "token": token}
    else:
        result = {"method": "GET", "url": where, "token": token}
    if args.json:
        out.line(json.dumps(result))
    else:
        out.line(f"token  {token}")
        out.line(f"{result['method']:<6} {result['url']}")
        for name, value in dict(result.get("fields", {})).items():
            out.line(f"       {name}={value}")
    return OK


def _link(args: argparse.Namespace, key: str, claims: dict[str, object], out: Out) -> int:
    """``--link``: the URL of an emailed sign-in link (:func:`sso_middleware.links.sign_in_link`)."""
    from ..links import DEFAULT_LIFETIME, sign_in_link

    if args.service is not None:
        raise UsageError("--link makes a link to your own verifier: give no SERVICE")
    try:
        url = sign_in_link(args.link, _user(args), key=key, next=args.next, audience=args.audience,
                           typ=args.typ, claims=claims,
                           lifetime=DEFAULT_LIFETIME if args.ttl is None else args.ttl)
    except ConfigurationError as e:
        raise UsageError(f"cannot make this link: {e}") from e
    out.line(json.dumps({"url": url}) if args.json else url)
    return OK


def _user(args: argparse.Namespace) -> Principal:
    text = args.user_json
    if text is None:
        raise UsageError('give the user: --user-json \'{"id": 7, "email": "ada@example.com", '
                         '"name": "Ada Lovelace"}\'')
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read {text[1:]}: {e.strerror}") from e
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UsageError(f"--user-json is not JSON: {e}") from e
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        raise UsageError("--user-json must be a JSON object with at least an id")
    return Principal.coerce(data)  # type: ignore[return-value]  # an id: never None

