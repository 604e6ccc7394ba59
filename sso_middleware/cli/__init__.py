"""The ``sso-middleware`` command (also ``python -m sso_middleware``): tools for when SSO breaks.

Built on the standard library's argparse: a command line that every Python has, with no
dependency to install or keep in step, and subcommands, help and exit codes are all it needs.

Exit codes: 0 ok, 1 refused or a problem found, 2 a usage mistake (a missing key, a bad option).

Where things live: this module is the parser and :func:`main`. Each command is a module named
after it (``keygen``, ``mint``, ``decode``, ``verify``, ``check``, ``demo``) holding its ``HELP``
line, its ``EXAMPLES`` (command lines), ``add_arguments(parser)`` and ``execute(args, out)``, which
returns the exit code; what several commands share is in the private ``_common.py`` (and a preset
built from ``--option`` pairs, with the flags each command needs, in ``_presets.py``). The back-ends
a command needs sit beside it (``explain.py`` for ``verify --explain``; the demo app in
``demo.py``). A new command is a new module and its entry in :data:`COMMANDS` below.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn, Protocol, TextIO

from . import check, decode, demo, keygen, mint, verify
from ._common import OK, REFUSED, USAGE, Out, Problem, UsageError


class Command(Protocol):
    """What a command module holds (each module is one ``Command``)."""

    HELP: str

    @property
    def EXAMPLES(self) -> tuple[str, ...]: ...  # a module's tuple: read-only here, so any length fits

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def execute(self, args: argparse.Namespace, out: Out) -> int: ...


COMMANDS: dict[str, Command] = {
    "keygen": keygen, "mint": mint, "decode": decode, "verify": verify, "check": check, "demo": demo,
}
"""Every command by name (its module's), in the order ``--help`` lists them."""


def _version() -> str:
    try:
        return version("sso-middleware")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--version", action="version", version=f"sso-middleware {_version()}")
    parser = argparse.ArgumentParser(
        prog="sso-middleware", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Sign users in to the services they use, and find out why it failed when it did.",
        epilog="exit codes: 0 ok, 1 refused or a problem found, 2 a usage mistake",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(
            name, help=command.HELP, parents=[common],
            epilog="examples:\n" + "\n".join(f"  {line}" for line in command.EXAMPLES),
            description=command.HELP[0].upper() + command.HELP[1:] + ".",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
    return parser


def _fail(message: str) -> NoReturn:
    print(f"sso-middleware: {message}", file=sys.stderr)
    raise SystemExit(USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 refused/problem, 2 usage)."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _plain_warnings(warnings.showwarning)
        try:
            return COMMANDS[args.command].execute(args, Out(sys.stdout))
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


__all__ = ["COMMANDS", "main"]
