"""Fixtures only (what tests share otherwise is in helpers.py): one behaviour suite, two skins,
every HTTP test gets a ``skin`` and runs on WSGI and ASGI; time is a ``clock`` tests move."""

from __future__ import annotations

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
