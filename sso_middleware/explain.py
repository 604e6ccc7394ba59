"""Moved to :mod:`sso_middleware.cli.explain` (``verify --explain``'s back-end); this path keeps working."""

from .cli.explain import OUT_OF_RANGE as OUT_OF_RANGE
from .cli.explain import Report as Report
from .cli.explain import Step as Step
from .cli.explain import ago as ago
from .cli.explain import explain as explain
from .cli.explain import number as number
from .cli.explain import stamp as stamp
from .cli.explain import when as when

__all__ = ["OUT_OF_RANGE", "Report", "Step", "ago", "explain", "number", "stamp", "when"]
