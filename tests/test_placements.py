"""Every placement, both halves, on both skins: the issuing half delivers a token, a browser
follows the reply as a browser would, the receiving half finds the token and the verifier checks it
(extract -> verify -> check -> consume -> session). A placement added without a case here fails
``test_every_placement_has_a_case``; a stateful one plugs into the same hooks (the last tests)."""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import sso_middleware
from sso_middleware import services
from sso_middleware.confirm import Confirm
from sso_middleware.errors import InvalidClaim
from sso_middleware.keys import Key, KeySet, same_secret
from sso_middleware.messages import Reply, Request, parse_query, post_form
from sso_middleware.placements import (
    FormField,
    Fragment,
    Issuing,
    PathSegment,
    Placement,
    QueryParameter,
    Receiving,
    RoundTrip,
    SignedPayload,
    TokenEndpoint,
    UserHash,
)
from sso_middleware.session import Trip
from sso_middleware.tokens import Verified

KEY = "placements-test-key-0123456789-abcdefghij"
SECRET = "d836444a9e4084d5b224a60c208dce14"  # Discourse's example secret (32 bytes)
NOW = 1_800_000_000


def _now() -> float:
    return float(NOW)


@dataclass(frozen=True)
class Case:
    """One placement as a receiver is built with it, and where the issuer delivers to."""

    placement: Placement
    options: dict[str, Any] = field(default_factory=dict)
    target: str = "http://localhost/sso"
    next: str = "/"


CASES = [
    pytest.param(Case(QueryParameter("token"), target="http://localhost/sso?next=/after", next="/after"),
                 id="QueryParameter"),
    pytest.param(Case(QueryParameter("ssoToken"), {"path": "/board"}, "http://localhost/board"),
                 id="QueryParameter-named"),
    pytest.param(Case(PathSegment(), {"path": "/login"}, "http://localhost/login/{token}"), id="PathSegment"),
    pytest.param(Case(FormField("jwt"), target="http://localhost/sso?next=/after", next="/after"),
                 id="FormField"),
    pytest.param(Case(Fragment()), id="Fragment"),
    pytest.param(Case(Fragment("jwt")), id="Fragment-named"),
    pytest.param(Case(TokenEndpoint()), id="TokenEndpoint"),
    pytest.param(Case(UserHash("signature", of="sub")), id="UserHash"),
    pytest.param(Case(Confirm(), target="http://localhost/sso?next=/after", next="/after"), id="Confirm"),
    pytest.param(Case(SignedPayload("https://app.acme.com/sso/discourse"), next="/t/1"), id="SignedPayload"),
]


def _receiver(skin: Any, case: Case) -> Any:
    if isinstance(case.placement, SignedPayload):  # Discourse's own service, standing in for the forum
        forum = services.discourse(secret=SECRET, url="https://forum.acme.com",
                                   provider=case.placement.provider)
        return skin.verifier(service=forum, clock=_now)
    return skin.verifier(key=KEY, placement=case.placement, clock=_now, **case.options)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def follow(client: Any, reply: Reply, placement: Placement, target: str) -> Any:
    """What a browser (or a widget's backend) does with the issuing half's reply."""
    headers = dict(reply.headers)
    if reply.status == 303:
        where = urlsplit(headers["Location"])
        page = client.get(_path(headers["Location"]))
        if not where.fragment:  # (a confirm page's button is pressed, as the person would)
            return _submit(client, page.text) if page.status == 200 and "<form" in page.text else page
        # the fragment never reaches the server: the receiver's bridge page posts it back
        assert page.status == 200 and "history.replaceState" in page.text
        token = parse_qs(where.fragment)["jwt"][0] if placement.param else unquote(where.fragment)
        return client.request("POST", _path(headers["Location"]), data={"token": token},
                              headers={"Sec-Fetch-Site": "same-origin"})
    if headers.get("Content-Type") == "application/json":  # the page's script fetched it
        answer = {name: str(value) for name, value in json.loads(reply.body).items()}
        return client.request("POST", _path(target), data=placement.handed(answer))
    return _submit(client, reply.body.decode())  # an auto-submitting form


def _submit(client: Any, body: str) -> Any:
    """A page's form, posted as the browser posts it."""
    action = unescape(re.search(r'<form method="post" action="([^"]*)"', body).group(1))  # type: ignore[union-attr]
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]*)" value="([^"]*)"', body)}
    return client.request("POST", _path(action), data=fields, headers={"Sec-Fetch-Site": "same-origin"})


def deliver(case: Case, client: Any, middleware: Any) -> Reply:
    """The issuing half: encode and deliver a token for Ada (a round trip first asks the provider)."""
    placement = case.placement
    if isinstance(placement, SignedPayload):  # the receiver starts; the test plays the provider
        started = client.get(f"{middleware.receiver.listen}?next={case.next}")
        assert started.status == 303 and started.location.startswith(f"{placement.provider}?sso=")
        inbound = placement.inbound(urlsplit(started.location).query, KeySet([Key(SECRET)]))
        assert inbound is not None
        back, copied = inbound
        answer = placement.encode({**dict(copied), "external_id": "ada", "email": "ada@example.com"},
                                  Key(SECRET), None)
        return placement.deliver(back or "", answer, ())
    token = placement.encode({"sub": "ada", "iat": NOW, "exp": NOW + 60, "jti": f"{placement!r}"},
                             Key(KEY), None)
    return placement.deliver(case.target, token, (), NOW + 60)


@pytest.mark.parametrize("case", CASES)
def test_deliver_extract_verify(skin: Any, case: Case) -> None:
    middleware, client = _receiver(skin, case)
    reply = deliver(case, client, middleware)
    landed = follow(client, reply, case.placement, case.target)
    assert landed.status == 303 and landed.location == case.next, landed.text
    assert "Set-Cookie" in landed.headers
    assert client.get("/page").json()["user"] == "ada"
    assert [login.principal.id for login in middleware.logins] == ["ada"]


@pytest.mark.parametrize("case", CASES)
def test_the_same_delivery_in_another_browser_is_refused(skin: Any, case: Case) -> None:
    middleware, client = _receiver(skin, case)
    reply = deliver(case, client, middleware)
    assert follow(client, reply, case.placement, case.target).status == 303
    stranger = client.stranger()
    again = follow(stranger, reply, case.placement, case.target)
    if isinstance(case.placement, UserHash):  # a hash is the same every time and vendors take it again:
        assert again.status == 303  # it proves identity, it is not one-time (its docs say so)
        return
    assert again.status in (400, 401, 409) and stranger.get("/page").json()["user"] is None


def _all(cls: type) -> set[type]:
    found = {cls}
    child: type
    for child in cls.__subclasses__():
        found |= _all(child)
    return found


def test_every_placement_has_a_case() -> None:
    ours = {cls for cls in _all(Placement) if cls.__module__.startswith(sso_middleware.__name__ + ".")}
    covered = {type(param.values[0].placement) for param in CASES}  # type: ignore[union-attr]
    assert ours - {Placement} == covered


def test_the_halves_are_small_and_apart() -> None:
    assert {"deliver", "encode"} <= set(vars(Issuing)) and "extract" not in vars(Issuing)
    assert {"extract", "verify"} <= set(vars(Receiving)) and "deliver" not in vars(Receiving)
    assert {"start", "check"} <= set(vars(RoundTrip))
    assert all(isinstance(p, (Issuing, Receiving, RoundTrip)) for p in (QueryParameter(), SignedPayload()))


# -- a stateful placement of one's own plugs into the same hooks --------------------------------------


class Confirmed(QueryParameter):
    """A toy confirm page for emailed links: the link's GET answers a page (nothing is consumed, so
    a mail scanner's visit burns nothing), and the page's same-origin POST signs in. The page's
    form is bound to this browser by a MAC of the token in a round-trip cookie."""

    methods = ("GET", "HEAD", "POST")
    body_limit = 4096
    __slots__ = ()

    def extract(self, listen: str | None, request: Request) -> str | None:
        if request.method != "POST":
            return None
        return parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param)

    def start(self, request: Request, trip: Trip, now: float) -> Reply | None:
        token = parse_query(request.query, (self.param,)).get(self.param)
        if not token:
            return None
        page = post_form(f"http://localhost{trip.listen}", [(self.param, token)])
        cookie = trip.remember("confirm", self._mac(trip, token), 300, request.secure)
        return Reply(page.status, (*page.headers, ("Set-Cookie", cookie)), page.body)

    def check(self, verified: Verified, request: Request, trip: Trip, now: float) -> Verified:
        token = parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param) or ""
        mine = trip.recall(request.header("cookie") or "", "confirm", request.secure)
        if mine is None or not same_secret(mine, self._mac(trip, token)):
            raise InvalidClaim("confirm")
        return verified

    @staticmethod
    def _mac(trip: Trip, token: str) -> str:
        return hmac.new(trip.derive("confirm page"), token.encode(), "sha256").hexdigest()


def test_a_stateful_placement_of_ones_own_plugs_in(skin: Any) -> None:
    middleware, client = skin.verifier(key=KEY, placement=Confirmed(), clock=_now)
    claims = {"sub": "ada", "iat": NOW, "exp": NOW + 60, "jti": "confirm-1"}
    token = Confirmed().encode(claims, Key(KEY), None)
    link = Confirmed().deliver("http://localhost/sso", token, ())
    page = client.get(_path(dict(link.headers)["Location"]))
    assert page.status == 200 and not middleware.logins  # the visit consumed nothing

    def posted(browser: Any) -> Any:  # the confirm page's form, submitted
        return browser.request("POST", "/sso", data={"token": token}, headers={"Accept": "application/json"})

    assert posted(client.stranger()).json()["error"] == "token_invalid_claim"  # not this browser's page
    assert posted(client).status == 303 and client.get("/page").json()["user"] == "ada"
