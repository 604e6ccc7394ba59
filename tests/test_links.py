"""Sign-in links minted for email (issue 27, 2): ``sso_middleware.links.sign_in_link`` and
``sso-middleware mint --link``, received by a confirming verifier on both skins; a link minted
for one purpose is refused where another is expected."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import KEY, Clock, Skin

from sso_middleware import ConfigurationError, Principal
from sso_middleware.keys import Key, KeySet
from sso_middleware.links import sign_in_link
from sso_middleware.tokens import TokenPolicy, verify

ADA = {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"}
PERSON = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"}


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _follow(client: Any, link: str) -> Any:
    """The person: opens the link, presses the confirm page's button."""
    page = client.get(_local(link), headers=PERSON)
    if page.status != 200:
        return page
    action = unescape(re.search(r'action="([^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]*)" value="([^"]*)"', page.text)}
    return client.request("POST", action, data=fields, headers={"Sec-Fetch-Site": "same-origin"})


def test_a_link_signs_in_once_and_lands_on_next(skin: Skin, clock: Clock) -> None:
    middleware, client = skin.verifier(key=KEY, confirm=True, clock=clock)
    link = sign_in_link("http://localhost/sso", ADA, key=KEY, next="/invoices/7?tab=paid", now=clock())
    landed = _follow(client, link)
    assert landed.status == 303 and landed.location == "/invoices/7?tab=paid"
    assert client.get("/page").json()["user"] == "7"
    (login,) = middleware.logins
    assert login.claims["email"] == "ada@example.com" and login.claims["exp"] - login.claims["iat"] == 900
    assert _follow(client.stranger(), link).status == 401


@pytest.mark.parametrize(("minted", "expected", "accepted"), [
    pytest.param({"audience": "invoice"}, {"audience": "invoice"}, True, id="same-purpose"),
    pytest.param({"audience": "invoice"}, {"audience": "admin"}, False, id="invoice-link-at-admin"),
    pytest.param({"audience": "invoice"}, {}, False, id="purpose-link-at-plain-verifier"),
    pytest.param({}, {"audience": "admin"}, False, id="plain-link-at-admin"),
    pytest.param({"typ": "invoice-link"}, {"typ": "invoice-link"}, True, id="same-typ"),
    pytest.param({}, {"typ": "invoice-link"}, False, id="plain-link-where-typ-is-required"),
])
def test_a_link_serves_its_purpose_only(skin: Skin, clock: Clock, minted: dict[str, str],
                                        expected: dict[str, str], accepted: bool) -> None:
    middleware, client = skin.verifier(key=KEY, confirm=True, clock=clock, **expected)
    link = sign_in_link("http://localhost/sso", ADA, key=KEY, now=clock(), **minted)
    answer = _follow(client, link)
    assert (answer.status == 303) is accepted, answer.text
    if not accepted:
        assert answer.status == 401 and "<form" not in answer.text and not middleware.logins


def test_a_link_expires(skin: Skin, clock: Clock) -> None:
    _, client = skin.verifier(key=KEY, confirm=True, clock=clock, leeway=0)
    link = sign_in_link("http://localhost/sso", ADA, key=KEY, lifetime=120, now=clock())
    clock.advance(121)
    assert _follow(client, link).status == 401


def test_what_a_link_carries() -> None:
    link = sign_in_link("https://app.acme.com/sso?src=mail", Principal("u-1", None, "Bob"), key=KEY,
                        claims={"plan": "pro"}, audience="invoice", now=1_800_000_000)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith("https://app.acme.com/sso?src=mail&") and "next" not in query
    claims = verify(query["token"][0], TokenPolicy(KeySet([Key(KEY)]), audience="invoice"),
                    1_800_000_001).claims
    assert claims["sub"] == "u-1" and claims["name"] == "Bob" and claims["plan"] == "pro"
    assert claims["aud"] == "invoice" and claims["exp"] == 1_800_000_900 and len(claims["jti"]) >= 22
    assert "email" not in claims


@pytest.mark.parametrize("options", [
    pytest.param({"url": "http://app.acme.com/sso"}, id="http-off-loopback"),
    pytest.param({"url": "https://app.acme.com/sso#x"}, id="fragment"),
    pytest.param({"url": "/sso"}, id="relative"),
    pytest.param({"next": "//evil.com"}, id="next-elsewhere"),
    pytest.param({"next": "https://evil.com/"}, id="next-absolute"),
    pytest.param({"next": "/\\evil.com"}, id="next-backslash"),
    pytest.param({"lifetime": 59}, id="too-short"),
    pytest.param({"lifetime": 86401}, id="too-long"),
    pytest.param({"lifetime": float("nan")}, id="nan"),
    pytest.param({"claims": {"jti": "mine"}}, id="own-jti"),
    pytest.param({"audience": ""}, id="empty-audience"),
    pytest.param({"user": {"email": "no-id@example.com"}}, id="user-without-id"),
])
def test_mistakes_are_refused(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"url": "https://app.acme.com/sso", "user": ADA, **options}
    with pytest.raises(ConfigurationError):
        sign_in_link(arguments.pop("url"), arguments.pop("user"), key=KEY, **arguments)


def test_mint_link_on_the_command_line(skin: Skin, clock: Clock) -> None:
    env = {**os.environ, "APPS_KEY": KEY, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "sso_middleware", "mint", "--link", "http://localhost/sso", "--key-env",
         "APPS_KEY", "--user-json", '{"id": 7, "email": "ada@example.com"}', "--next", "/inbox",
         "--audience", "invoice", "--ttl", "3600"],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    clock.now = time.time()  # the command mints at the wall clock's now
    middleware, client = skin.verifier(key=KEY, confirm=True, audience="invoice", clock=clock)
    landed = _follow(client, link)
    assert landed.status == 303 and landed.location == "/inbox"
    exp, iat = middleware.logins[0].claims["exp"], middleware.logins[0].claims["iat"]
    assert exp - iat == 3600
    refused = subprocess.run(
        [sys.executable, "-m", "sso_middleware", "mint", "--link", "https://app.acme.com/sso", "--key-env",
         "APPS_KEY", "--user-json", '{"id": 7}', "--next", "//evil.com"],
        capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and "same-site path" in refused.stderr
    assert "Traceback" not in refused.stderr
