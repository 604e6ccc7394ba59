"""docs/options.md lists every option of both middleware, every preset and both stores."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sso_middleware import MemoryReplayStore, RedisReplayStore, extractors, flows, services

DOC = (Path(__file__).parent.parent / "docs" / "options.md").read_text()
COMMON = {"key", "name", "ttl", "extra_claims"}  # every preset's, stated once above the table


def section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start: end if end > 0 else None]


def parameters(function: Callable[..., Any]) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p != "self"]


@pytest.mark.parametrize(("title", "cls"), [("`IssuerMiddleware`", flows.IssuerMiddleware),
                                            ("`VerifierMiddleware`", flows.VerifierMiddleware)])
def test_every_middleware_option_has_its_line(title: str, cls: type) -> None:
    rows = re.findall(r"^\| `(\w+)` \|", section(title), re.M)
    assert rows == parameters(cls.__init__)  # all of them, in the signature's order


PRESETS = [*services.PRESETS.values(), services.generic]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.__name__)
def test_every_preset_option_has_its_line(preset: Callable[..., Any]) -> None:
    rows = set(re.findall(rf"^\| `services\.{preset.__name__}` \| `(\w+)` \|", section("Presets"), re.M))
    assert rows == set(parameters(preset)) - COMMON


@pytest.mark.parametrize("store", [MemoryReplayStore, RedisReplayStore])
def test_every_store_option_has_its_line(store: type) -> None:
    pattern = rf"^\| `sso_middleware\.{store.__name__}` \| `(\w+)` \|"
    rows = re.findall(pattern, section("Replay stores"), re.M)
    assert rows == parameters(store.__init__)


def test_every_openid_provider_and_client_option_has_its_line() -> None:
    from sso_middleware.oidc import Client, OpenIDProvider

    for cls in (OpenIDProvider, Client):
        rows = re.findall(rf"^\| `{cls.__name__}` \| `(\w+)` \|", section("OpenID Connect provider"), re.M)
        assert rows == parameters(cls.__init__)  # all of them, in the signature's order


def test_every_ready_extractor_is_named() -> None:
    for name in extractors.__all__:
        assert f"`{name}" in section("Ready extractors"), name
