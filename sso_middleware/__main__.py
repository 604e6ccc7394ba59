"""The ``sso-middleware`` command (also ``python -m sso_middleware``): tools for when SSO breaks.

Built on the standard library's argparse: a command line that every Python has, with no
dependency to install or keep in step, and subcommands, help and exit codes are all it needs.

Exit codes: 0 ok, 1 refused or a problem found, 2 a usage mistake (a missing key, a bad option).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from http.client import HTTPException
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .errors import ConfigurationError, SSOError
from .principal import Principal

if TYPE_CHECKING:
    from .keys import Key, KeyInput

OK, REFUSED, USAGE = 0, 1, 2
_LENGTHS = {"HS256": 32, "HS384": 48, "HS512": 64}


class UsageError(Exception):
    """A mistake in how the command was called: printed plainly, exit code 2."""


class Problem(Exception):
    """Something the command found wrong that is not a usage mistake: printed plainly, exit code 1."""


def _version() -> str:
    try:
        return version("sso-middleware")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "unknown"


class _Out:
    """Where results go: marks are coloured on a terminal only (and never with NO_COLOR set)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def line(self, text: str = "") -> None:
        print(text, file=self.stream)

    def mark(self, ok: bool | None, word: str | None = None) -> str:
        """``pass``/``FAIL``/``skip`` (or ``word``), green/red/yellow on a terminal."""
        sign, code = {True: ("pass", "32"), False: ("FAIL", "31"), None: ("skip", "33")}[ok]
        return f"\033[{code}m{word or sign}\033[0m" if self.colour else word or sign


# -- inputs -------------------------------------------------------------------------------


def _token(value: str) -> str:
    """The token in what was pasted: the token itself, ``Bearer <token>``, a whole URL (query,
    fragment or path) or a form body; says on stderr where it was found when it was not bare."""
    text = (sys.stdin.read() if value == "-" else value).strip()
    token, where = find_token(text)
    if where is not None:
        print(f"note: took the token from {where}", file=sys.stderr)
    return token


def find_token(text: str) -> tuple[str, str | None]:
    """The first JWT in ``text``, and where it was (``None``: ``text`` is the token, or holds none).

    >>> find_token("Bearer eyJh.eyJz.c2ln")
    ('eyJh.eyJz.c2ln', "the 'Bearer' header value")
    >>> find_token("https://acme.invoiced.com/login/eyJh.eyJz.c2ln?x=1")
    ('eyJh.eyJz.c2ln', 'the URL path')
    >>> find_token("jwt=eyJh.eyJz.c2ln&return_to=%2F")
    ('eyJh.eyJz.c2ln', "the form field 'jwt'")
    """
    from urllib.parse import parse_qsl, unquote, urlsplit

    from .tokens import looks_like_token

    if looks_like_token(text):
        return text, None
    scheme, _, rest = text.partition(" ")
    if scheme.lower() == "bearer" and looks_like_token(rest.strip()):
        return rest.strip(), "the 'Bearer' header value"
    is_url = "://" in text or text.startswith("/")
    parts = urlsplit(text) if is_url else None
    places = ([("query parameter", parts.query), ("fragment parameter", parts.fragment)] if parts
              else [("form field", text)])
    for place, query in places:
        for name, found in parse_qsl(query, keep_blank_values=True):
            if looks_like_token(found):
                return found, f"the {place} {name!r}"
    if parts is not None:
        for segment in parts.path.split("/"):
            if looks_like_token(unquote(segment)):
                return unquote(segment), "the URL path"
    return text, None


def _key(args: argparse.Namespace, also: str = "") -> str:
    """The key from ``--key-env``, ``--key-file`` or (warned about) ``--key``; ``also`` names
    another way the command takes one.

    A secret is used exactly as given, as the library uses it: whitespace around it is refused,
    never stripped. The one exception is a file's final line end (``keygen --out`` writes one, as
    every editor does): it ends the line and is not part of the key."""
    if args.key_env:
        value = os.environ.get(args.key_env)
        if not value:
            raise UsageError(f"the environment variable {args.key_env} is not set (or empty)")
        return _exact(value, f"--key-env {args.key_env}",
                      f"set {args.key_env} again without it (a copied .env line often brings it)")
    if args.key_file:
        try:
            text = Path(args.key_file).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read the key file {args.key_file}: {e.strerror}") from e
        text = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
        return _exact(text, f"--key-file {args.key_file}",
                      "remove it from the file (its one final newline is fine: it is not read as "
                      "part of the key)")
    if args.key:
        print("warning: a key given on the command line lands in your shell history and in the "
              "process list; prefer --key-env NAME", file=sys.stderr)
        return _exact(str(args.key), "--key", "quote the key without it")
    ways = ["--key-env NAME (an environment variable)", "--key-file PATH", *([also] if also else [])]
    raise UsageError(f"give the key: {', '.join(ways[:-1])} or {ways[-1]}")


def _exact(value: str, source: str, fix: str) -> str:
    """``value``, unless it is a secret with whitespace around it (the library's rule, in CLI terms)."""
    from .keys import is_pair, stray_whitespace

    stray = None if is_pair(value) else stray_whitespace(value)
    if stray is not None:
        raise UsageError(f"{source}: the key {stray}. A key is used exactly as given (your app refuses "
                         "such a key too), and the service's copy has none: tokens signed with it would "
                         f"fail its signature check. Fix: {fix}")
    return value


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


def _value(text: str) -> Any:
    """A ``--claim``/``--option`` value: JSON when it reads as JSON (``7``, ``["a"]``), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text
    except RecursionError as e:  # nesting deeper than the parser goes: no claim needs that
        raise UsageError("a --claim/--option value nests too deeply") from e


def _pairs(items: Sequence[str], flag: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} takes name=value, not {item!r}")
        found[name] = _value(text)
    return found


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


def _published_keys(url: str) -> tuple[list[Key], list[str]]:
    """The usable keys of the JWKS at ``url`` (fetched as a verifier fetches it), and why
    any other key in it was skipped."""
    from .jwks import RemoteKeys, fetch_url, parse

    try:
        remote = RemoteKeys(url, timeout=5.0)  # the URL rules a verifier's jwks_url follows
    except ConfigurationError as e:
        raise UsageError(e.message) from e
    try:
        keys, skipped = parse(fetch_url(remote.url, remote.timeout))
    except (OSError, ValueError, HTTPException) as e:
        raise Problem(f"could not fetch the JWKS at {url}: {type(e).__name__}: {e}") from e
    return list(keys.keys), skipped


def _service(name: str, options: dict[str, Any], key: KeyInput) -> Any:
    import inspect

    from .services import PRESETS, from_config

    try:
        return from_config({name: {**options, "key": key}}, setting="service")[0]
    except ConfigurationError as e:
        preset = PRESETS.get(name)
        parameters = inspect.signature(preset).parameters if preset is not None else {}
        needed = [f"--option {n}=..." for n, p in parameters.items()
                  if p.default is p.empty and n not in options and n not in ("key", "secret")]
        if preset is not None and needed and set(options) <= set(parameters):  # say which flag
            help_at = f"see help(services.{preset.__name__})"
            raise UsageError(f"{name} needs {', '.join(needed)} ({help_at})") from e
        raise UsageError(e.message) from e


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


def cmd_keygen(args: argparse.Namespace, out: _Out) -> int:
    from .keys import ALGORITHMS

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


def _keygen_pair(args: argparse.Namespace, out: _Out) -> int:
    """A key pair: the private key to a new file (never to the terminal), the public half shown."""
    from .keys import Key

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


def cmd_mint(args: argparse.Namespace, out: _Out) -> int:
    from .tokens import sign

    key, claims, now = _key(args), _pairs(args.claim, "--claim"), time.time()
    if args.service == "generic":
        from .keys import Key

        body = {**claims}
        body.setdefault("iat", int(now))
        body.setdefault("exp", int(now) + args.ttl)
        body.setdefault("jti", secrets.token_urlsafe(16))
        try:
            token = sign(body, Key(key, algorithm=args.algorithm))
        except (ConfigurationError, TypeError, ValueError) as e:
            raise UsageError(f"cannot sign these claims: {e}") from e
        out.line(json.dumps({"token": token}) if args.json else token)
        return OK
    options = _pairs(args.option, "--option")
    if claims:
        options["extra_claims"] = claims
    service = _service(args.service, options, key)
    user = _user(args)
    try:
        token, reply = service.issue(service.prepare(args.query or ""), user, now)
    except SSOError as e:
        out.line(f"refused: {e.code}: {e.message}" + (f" ({e.detail})" if e.detail else ""))
        return REFUSED
    if args.token_only:
        out.line(token)
        return OK
    where = dict(reply.headers).get("Location")
    if where is None:  # an auto-submitting form: show where it posts and what
        from .messages import FormReader

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


def _times(claims: dict[str, Any], now: float) -> dict[str, str]:
    from .dates import number, when

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


def cmd_decode(args: argparse.Namespace, out: _Out) -> int:
    from .tokens import peek

    token, now = _token(args.token), time.time()
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


def cmd_verify(args: argparse.Namespace, out: _Out) -> int:
    from .explain import explain

    token = _token(args.token)
    skipped: list[str] = []
    if args.jwks_url is None:
        key: KeyInput = _key(args, also="--jwks-url URL (the keys a JWKS publishes)")
    elif args.key_env or args.key_file or args.key:
        raise UsageError("give a key or --jwks-url, not both")
    else:
        key, skipped = _published_keys(args.jwks_url)
    now = time.time() if args.at is None else args.at
    policy_options = {"algorithms": args.algorithm or None, "leeway": args.leeway, "max_lifetime":
                      args.max_lifetime, "max_age": args.max_age, "strict": args.strict, "issuer":
                      args.issuer or None, "audience": args.audience, "typ": args.typ,
                      "identity": args.identity or None}
    try:
        if args.service:
            service = _service(args.service, _pairs(args.option, "--option"), key)
        else:
            from .flows import generic_receiver

            service = generic_receiver(key, "/sso", None, args.algorithm or None)
        policy = service.receiving_policy(**policy_options)
    except ConfigurationError as e:
        raise UsageError(e.message) from e
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
    if report.error is None:
        out.line(f"{out.mark(True)}  accepted as a receiver for {service.name!r} would "
                 "(one-time use is checked by the receiver, not here)")
        return OK
    failed = next((s for s in report.steps if s.ok is False), None)
    reason = f": {failed.detail}" if failed is not None else ""
    out.line(f"{out.mark(False)}  refused: {report.error.code}{reason}")
    return REFUSED


def _load(target: str, factory: bool) -> object:
    module_name, _, attribute = target.partition(":")
    if not module_name:
        raise UsageError(f"{target!r}: give MODULE:APP, e.g. myproject.wsgi:application")
    sys.path.insert(0, os.getcwd())
    try:
        module = import_module(module_name)
    except ConfigurationError:
        raise
    except Exception as e:  # the user's module: any failure to import is reported, not a traceback
        raise UsageError(f"cannot import {module_name!r}: {type(e).__name__}: {e}") from e
    found: object = module
    for part in (attribute or "app").split("."):
        if not hasattr(found, part):
            raise UsageError(f"{module_name!r} has no {attribute or 'app'!r}")
        found = getattr(found, part)
    if factory:
        if not callable(found):
            raise UsageError(f"{target} is not callable; drop --factory")
        found = found()
    return found


def cmd_check(args: argparse.Namespace, out: _Out) -> int:
    from .lint import lint

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            target = _load(args.target, args.factory)
            found = lint(target, workers=args.workers)
        except ConfigurationError as e:
            out.line(f"{out.mark(False)}  the configuration is refused when it is built: {e.message}")
            return REFUSED
    for warning in caught:
        if warning.category.__module__.startswith("sso_middleware"):
            found.add("warning", str(warning.message), "see the message")
    if args.json:
        out.line(json.dumps({"seen": found.seen, "findings": [
            {"level": f.level, "what": f.what, "fix": f.fix} for f in found.findings]}))
    else:
        for line in found.seen:
            out.line(f"       {line}")
        for finding in found.findings:
            mark = out.mark(False) if finding.level == "problem" else out.mark(None, "warn")
            out.line(f"{mark}  {finding.what}\n       fix: {finding.fix}")
        problems = sum(f.level == "problem" for f in found.findings)
        out.line(f"{problems} problem(s), {len(found.findings) - problems} warning(s)")
    return REFUSED if any(f.level == "problem" for f in found.findings) else OK


def cmd_demo(args: argparse.Namespace, out: _Out) -> int:
    from .demo import run

    run(port=args.port, host=args.host)
    return OK


# -- the parser ----------------------------------------------------------------------------

_EXAMPLES = {
    "keygen": "examples:\n  sso-middleware keygen\n"
              "  sso-middleware keygen --algorithm HS512 --out helpscout.key\n"
              "  sso-middleware keygen --algorithm RS256 --out freshworks.pem",
    "mint": "examples:\n"
            "  sso-middleware mint frill --key-env FRILL_SSO_KEY --option hosts=feedback.acme.com \\\n"
            "      --user-json '{\"id\": 7, \"email\": \"ada@example.com\", \"name\": \"Ada\"}' \\\n"
            "      --query 'redirect=https://feedback.acme.com/b/ideas'\n"
            "  sso-middleware mint generic --key-env APPS_SSO_KEY --claim sub=ada --claim plan=pro",
    "decode": "examples:\n  sso-middleware decode eyJhbGciOi...\n  pbpaste | sso-middleware decode -",
    "verify": "examples:\n  sso-middleware verify \"$TOKEN\" --key-env APPS_SSO_KEY --explain\n"
              "  sso-middleware verify \"$TOKEN\" --key-env INVOICED_SSO_KEY --service invoiced "
              "--option company=acme --explain\n"
              "  sso-middleware verify \"$TOKEN\" --jwks-url https://app.acme.com/sso/.well-known/jwks.json "
              "--service grafana --explain",
    "check": "examples:\n  sso-middleware check myapp:app\n  sso-middleware check myproject.wsgi:application "
             "--workers 4\n  sso-middleware check myapp:create_app --factory",
    "demo": "examples:\n  sso-middleware demo\n  sso-middleware demo --host 0.0.0.0 --port 8080",
}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--version", action="version", version=f"sso-middleware {_version()}")
    parser = argparse.ArgumentParser(
        prog="sso-middleware", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Sign users in to the services they use, and find out why it failed when it did.",
        epilog="exit codes: 0 ok, 1 refused or a problem found, 2 a usage mistake",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[common], epilog=_EXAMPLES[name],
                                   description=help_text[0].upper() + help_text[1:] + ".",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    def key_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--key-env", metavar="NAME", help="read the key from this environment variable")
        sub.add_argument("--key-file", metavar="PATH", help="read the key from this file")
        sub.add_argument("--key", help=argparse.SUPPRESS)  # works, warned about: shell history

    keygen = command("keygen", "make a random secret of the right length, or a key pair")
    keygen.add_argument("--algorithm", default="HS256",
                        help="HS256 (32 bytes), HS384 (48), HS512 (64); or a key pair: RS256, PS256, "
                             "ES256, ES384, EdDSA, Ed25519, Ed448, ... (needs --out)")
    keygen.add_argument("--out", metavar="PATH",
                        help="write it to a new file (mode 600) instead (a key pair: its private key)")
    keygen.add_argument("--json", action="store_true", help="print JSON")

    mint = command("mint", "sign a token for a preset (and show where the browser would go) or claims")
    mint.add_argument("service", metavar="SERVICE", help="a preset (frill, invoiced, ...) or 'generic'")
    key_options(mint)
    mint.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                      help="a preset option, e.g. hosts=feedback.acme.com or company=acme")
    mint.add_argument("--user-json", metavar="JSON", help="the user as JSON (or @file): id, email, name, ...")
    mint.add_argument("--claim", action="append", default=[], metavar="NAME=VALUE",
                      help="a claim (generic) or an extra claim (preset); JSON values are parsed")
    mint.add_argument("--query", help="the login request's query, e.g. 'redirect=https://...'")
    mint.add_argument("--algorithm", help="generic only: HS256 (default for a secret), HS384, HS512, "
                      "or what a key pair signs (its type's default: RS256, ES256, EdDSA)")
    mint.add_argument("--ttl", type=int, default=300, help="generic only: lifetime in seconds")
    mint.add_argument("--token-only", action="store_true", help="print only the token")
    mint.add_argument("--json", action="store_true", help="print JSON")

    decode = command("decode", "show a token's header and claims, with dates, WITHOUT verifying it")
    decode.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    decode.add_argument("--json", action="store_true", help="print JSON")

    verify = command("verify", "run a receiver's checks on a token, one by one with --explain")
    verify.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    key_options(verify)
    verify.add_argument("--jwks-url", metavar="URL", help="verify with the public keys published there "
                        "(a JWKS, e.g. https://app.acme.com/sso/.well-known/jwks.json)")
    verify.add_argument("--service", metavar="PRESET", help="receive as this preset does")
    verify.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="the preset's options, e.g. company=acme")
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

    check = command("check", "import an app and list what is wrong with its SSO configuration")
    check.add_argument("target", metavar="MODULE:APP", help="the app object, e.g. myproject.wsgi:application")
    check.add_argument("--workers", type=int, help="the server's worker count, if not in the environment")
    check.add_argument("--factory", action="store_true", help="APP is a function that returns the app")
    check.add_argument("--json", action="store_true", help="print JSON")

    demo = command("demo", "serve a click-through demo on 127.0.0.1")
    demo.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    demo.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    return parser


_COMMANDS: dict[str, Callable[[argparse.Namespace, _Out], int]] = {
    "keygen": cmd_keygen, "mint": cmd_mint, "decode": cmd_decode, "verify": cmd_verify,
    "check": cmd_check, "demo": cmd_demo,
}


def _fail(message: str) -> NoReturn:
    print(f"sso-middleware: {message}", file=sys.stderr)
    raise SystemExit(USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 refused/problem, 2 usage)."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _plain_warnings(warnings.showwarning)
        try:
            return _COMMANDS[args.command](args, _Out(sys.stdout))
        except UsageError as e:
            _fail(str(e))
        except Problem as e:
            print(f"sso-middleware: {e}", file=sys.stderr)
            return REFUSED
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # the reader went away (`| head`): nothing more to say to it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return OK


def _plain_warnings(python: Callable[..., None]) -> Callable[..., None]:
    """Our warnings (a short key) as one plain line on stderr, as the command's other notes are;
    Python's own format (file, line, source) points into code a command-line user never wrote."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if not category.__module__.startswith("sso_middleware"):
            python(message, category, filename, lineno, file, line)
            return
        print(f"warning: {message}", file=sys.stderr if file is None else file)

    return show


if __name__ == "__main__":
    raise SystemExit(main())
