"""Measurement: interleaved repeats, medians, ratios against a baseline timed in the same run."""

from __future__ import annotations

import asyncio
import inspect
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Comparison:
    """Per-call times (seconds) of a subject and its baseline, from interleaved repeats."""

    name: str
    baseline: str
    subject_times: list[float] = field(default_factory=list)
    baseline_times: list[float] = field(default_factory=list)
    target: str = ""

    @property
    def subject(self) -> float:
        return statistics.median(self.subject_times)

    @property
    def base(self) -> float:
        return statistics.median(self.baseline_times)

    @property
    def ratios(self) -> list[float]:
        """Each round's ratio: its pair ran back to back, under the same noise."""
        return [s / b for s, b in zip(self.subject_times, self.baseline_times)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def deltas(self) -> list[float]:
        """Each round's subject time less its baseline's."""
        return [s - b for s, b in zip(self.subject_times, self.baseline_times)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "subject_us": round(self.subject * 1e6, 3),
            "baseline_us": round(self.base * 1e6, 3),
            "ratio": round(self.ratio, 4),
            "delta_us": round((self.subject - self.base) * 1e6, 3),
            "spread": _range(self.ratios, 1, 4),
            "delta_spread_us": _range(self.deltas, 1e6, 3),
            "target": self.target,
        }


def _range(values: list[float], scale: float, digits: int) -> list[float]:
    """The lowest and highest of ``values`` (per round), scaled and rounded: the spread beside a median."""
    return [round(min(values) * scale, digits), round(max(values) * scale, digits)]


def _rounds(
    result: Comparison, subject: Any, baseline: Any, repeat: int
) -> Iterator[tuple[Any, list[float]]]:
    """``(callable, where its times go)`` in ABBA order, so drift hits both sides alike."""
    order = ((subject, result.subject_times), (baseline, result.baseline_times))
    for i in range(repeat):
        yield from order if i % 2 == 0 else reversed(order)


def _per_call(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def compare(
    name: str,
    subject: Callable[[], Any],
    baseline: Callable[[], Any],
    *,
    baseline_name: str,
    number: int,
    repeat: int,
    target: str = "",
) -> Comparison:
    """Time two callables (both plain or both coroutine functions, the latter in one event loop)
    in alternating rounds, ABBA order to cancel drift."""
    result = Comparison(name, baseline_name, target=target)
    if not inspect.iscoroutinefunction(subject):
        subject(), baseline()  # warm caches
        for fn, times in _rounds(result, subject, baseline, repeat):
            times.append(_per_call(fn, number))
        return result

    async def per_call(fn: Callable[[], Awaitable[Any]]) -> float:
        start = time.perf_counter()
        for _ in range(number):
            await fn()
        return (time.perf_counter() - start) / number

    async def run() -> None:
        await subject()
        await baseline()
        for fn, times in _rounds(result, subject, baseline, repeat):
            times.append(await per_call(fn))

    asyncio.run(run())
    return result
