"""Numeric dates (``iat``, ``exp``, ``nbf``) as people read them: for ``verify --explain``,
``decode`` and the demo. A hostile token's date may be any number: nothing here raises.

>>> when(1_000_000 - 420, 1_000_000)
'1970-01-12 13:39:40 UTC (7 min ago)'
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

OUT_OF_RANGE = "out of range"


def stamp(seconds: float) -> str:
    """A numeric date as a person reads it: ``2026-12-06 14:02:11 UTC``; ``out of range`` for
    one no calendar here can show (a hostile ``exp`` of ``1e300``).

    >>> stamp(0), stamp(1e300)
    ('1970-01-01 00:00:00 UTC', 'out of range')
    """
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return OUT_OF_RANGE


def when(seconds: float, now: float) -> str:
    """``2026-12-06 14:02:11 UTC (7 min ago)``: a numeric date for a person.

    >>> when(1_000_000 - 420, 1_000_000), when(-1e300, 0)
    ('1970-01-12 13:39:40 UTC (7 min ago)', 'out of range')
    """
    shown = stamp(seconds)
    return shown if shown == OUT_OF_RANGE else f"{shown} ({ago(seconds - now)})"


def ago(seconds: float) -> str:
    """``seconds`` from now in words, rounded: "in 5 min", "12 s ago" (the demo and the CLI).

    >>> ago(300), ago(-12), ago(7200), ago(-3 * 86400)
    ('in 5 min', '12 s ago', 'in 2 h', '3 d ago')
    """
    size = abs(seconds)
    words = (f"{size:.0f} s" if size < 90 else f"{size / 60:.0f} min" if size < 5400
             else f"{size / 3600:.0f} h" if size < 129600 else f"{size / 86400:.0f} d")
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def number(claims: Mapping[str, Any], name: str) -> float | None:
    """A claim's numeric date as a float (an integer too large for one is infinite, so shown as
    out of range); ``None`` when it is no number.

    >>> number({"exp": 2**1100}, "exp"), number({"exp": "soon"}, "exp")
    (inf, None)
    """
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


__all__ = ["OUT_OF_RANGE", "ago", "number", "stamp", "when"]
