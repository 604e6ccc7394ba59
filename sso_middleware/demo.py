"""Moved to :mod:`sso_middleware.cli.demo` (what ``sso-middleware demo`` serves); this path keeps working."""

from .cli.demo import DemoServer as DemoServer
from .cli.demo import build as build
from .cli.demo import run as run

__all__ = ["DemoServer", "build", "run"]
