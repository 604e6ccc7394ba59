"""Moved to :mod:`sso_middleware.cli.lint` (``sso-middleware check``'s back-end); this path keeps working."""

from .cli.lint import SHARED_DOMAINS as SHARED_DOMAINS
from .cli.lint import Finding as Finding
from .cli.lint import Lint as Lint
from .cli.lint import layers as layers
from .cli.lint import lint as lint

__all__ = ["SHARED_DOMAINS", "Finding", "Lint", "layers", "lint"]
