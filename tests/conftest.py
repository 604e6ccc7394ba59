"""Fixtures only (what tests share otherwise is in helpers.py): one behaviour suite, two skins,
every HTTP test gets a ``skin`` and runs on WSGI and ASGI; time is a ``clock`` tests move."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from helpers import Clock, Skin

collect_ignore = ["typing", "apps"]  # user files that mypy checks (test_typing.py) and apps the tests run


@pytest.fixture(params=["wsgi", "asgi"])
def skin(request: pytest.FixtureRequest) -> Iterator[Skin]:
    yield Skin(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True, scope="session")
def _redis_jitter_off_the_global_random() -> Iterator[None]:
    """redis-py's retry jitter draws from the global ``random``. A replay store left retrying in
    the background after a Redis test (its undo thread, a worker still in a retry) would move it
    while a later ``@given`` test draws, and hypothesis, which seeds the global ``random`` per
    example, fails that test as flaky. The jitter keeps its own generator; nothing else changes."""
    try:
        import redis.backoff
    except ImportError:  # (the extra is not installed: nothing to isolate)
        yield
        return
    shared = redis.backoff.random
    redis.backoff.random = random.Random(20261207)  # type: ignore[assignment]
    yield
    redis.backoff.random = shared
