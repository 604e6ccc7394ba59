"""What several commands share: exit codes, the two ways a command fails, where results go, and
reading a token, a key and ``name=value`` pairs from the command line (a preset from its
``--option`` pairs: ``_presets.py``). Private."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

OK, REFUSED, USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called: printed plainly, exit code 2."""


class Problem(Exception):
    """Something the command found wrong that is not a usage mistake: printed plainly, exit code 1."""


class Out:
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


def read_token(value: str) -> str:
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

    from ..tokens import looks_like_token

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


def read_key(args: argparse.Namespace, also: str = "") -> str:
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
    from ..keys import is_pair, stray_whitespace

    stray = None if is_pair(value) else stray_whitespace(value)
    if stray is not None:
        raise UsageError(f"{source}: the key {stray}. A key is used exactly as given (your app refuses "
                         "such a key too), and the service's copy has none: tokens signed with it would "
                         f"fail its signature check. Fix: {fix}")
    return value


def _value(text: str) -> Any:
    """A ``--claim``/``--option`` value: JSON when it reads as JSON (``7``, ``["a"]``), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text
    except RecursionError as e:  # nesting deeper than the parser goes: no claim needs that
        raise UsageError("a --claim/--option value nests too deeply") from e


def pairs(items: Sequence[str], flag: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} takes name=value, not {item!r}")
        found[name] = _value(text)
    return found


def add_key_options(parser: argparse.ArgumentParser) -> None:
    """``--key-env``, ``--key-file`` and (hidden, warned about) ``--key``, as :func:`read_key` reads them."""
    parser.add_argument("--key-env", metavar="NAME", help="read the key from this environment variable")
    parser.add_argument("--key-file", metavar="PATH", help="read the key from this file")
    parser.add_argument("--key", help=argparse.SUPPRESS)  # works, warned about: shell history
