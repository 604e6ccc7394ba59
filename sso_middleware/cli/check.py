"""``sso-middleware check MODULE:APP``: import an app and list what is wrong with its SSO
configuration (the findings come from :mod:`sso_middleware.cli.lint`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from importlib import import_module

from ..errors import ConfigurationError
from ._common import OK, REFUSED, Out, UsageError

HELP = "import an app and list what is wrong with its SSO configuration"
EXAMPLES = (
    "sso-middleware check myapp:app",
    "sso-middleware check myproject.wsgi:application --workers 4",
    "sso-middleware check myapp:create_app --factory",
)


def add_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("target", metavar="MODULE:APP", help="the app object, e.g. myproject.wsgi:application")
    check.add_argument("--workers", type=int, help="the server's worker count, if not in the environment")
    check.add_argument("--factory", action="store_true", help="APP is a function that returns the app")
    check.add_argument("--json", action="store_true", help="print JSON")


def execute(args: argparse.Namespace, out: Out) -> int:
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

