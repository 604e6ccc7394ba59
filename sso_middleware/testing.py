"""pytest plugin: stand-in services for end-to-end tests of your app's SSO, with no network.

Loaded automatically (entry point ``pytest11``) wherever sso-middleware is
installed, so its import is cheap: frameworks and servers load on first use.

Fixtures (override ``sso_clock`` to control time):

- ``sso_stand_in(service, **options)`` → :class:`StandIn`: a verifier that
  receives the way ``service`` does, in-process.
- ``sso_live_stand_in(service, **options)`` → :class:`LiveStandIn`: the same
  on a real server on 127.0.0.1 (ephemeral port), stopped after the test.
- ``sso_relying_party(app, client, issuer=...)`` → :class:`RelyingParty`: an
  OpenID Connect relying party (Grafana's side) for your app's provider, in
  process (the app object) or live (a URL); ``.sign_in(headers=...)`` runs the
  code flow with PKCE and returns the verified ID token claims and userinfo.

Example: "my Flask app sends Ada to Frill with the right claims"::

    def test_feedback_link(sso_stand_in):
        frill = services.frill(key=KEY, hosts=["feedback.acme.com"])
        stand_in = sso_stand_in(frill)
        response = my_app.test_client().get("/sso/frill", environ_base={"REMOTE_USER": "ada"})
        login = stand_in.follow(response)
        assert login.claims["email"] == "ada@example.com"
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from .messages import FormReader
from .relying_party import OpenIDLogin, RelyingParty, RelyingPartyRefused

if TYPE_CHECKING:
    from .flows import Login
    from .service import Service


_HINTS = {
    "token_bad_signature": "does the stand-in's service have the key your app signs with?",
    "token_expired": "the token's exp is past the stand-in's clock; override sso_clock to move it",
    "token_not_yet_valid": "the token's iat/nbf is ahead of the stand-in's clock",
    "token_replayed": "this token was presented before",
    "token_missing_claim": "the app's claims lack one the service requires",
}


class StandInRefused(AssertionError):
    """The stand-in refused what the app sent; ``code`` says why (e.g. ``token_expired``)."""

    def __init__(self, status: int, code: str) -> None:
        self.status = status
        self.code = code
        hint = _HINTS.get(code)
        super().__init__(f"the stand-in service refused the sign-in: {status} {code}"
                         + (f" ({hint})" if hint else ""))


def _landing(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The stand-in's own page: who is signed in."""
    from html import escape

    user = environ.get("REMOTE_USER")
    text = f"signed in as {escape(user)}" if user else "not signed in"
    body = f"<!doctype html><title>stand-in</title><p>{text}</p>".encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body]


def _body_text(response: Any) -> str:
    text = getattr(response, "text", None)
    if isinstance(text, str):
        return text
    get_data = getattr(response, "get_data", None)
    return get_data(as_text=True) if get_data is not None else ""


def _error_code(text: str) -> str | None:
    """The error code on one of our refusal pages (JSON or HTML), if it is one."""
    found = re.search(r'"error": "([a-z_]+)"|Error code: <code>([a-z_]+)</code>', text)
    return (found.group(1) or found.group(2)) if found else None


def _what_was_sent(response: Any) -> tuple[str, str, dict[str, str] | None]:
    """``(method, url, form)`` from a response object, a Location URL, or a form page; an
    AssertionError that says what the app did instead."""
    if isinstance(response, str):
        return "GET", response, None
    headers = response.headers
    status = getattr(response, "status_code", None) or getattr(response, "status", 0)
    if status == 200 and "json" in (headers.get("content-type") or ""):  # a token endpoint's answer
        fetched = _fetched(response)
        if fetched is not None:
            return "TOKEN", "", fetched
    location = headers.get("location")
    if location:
        return "GET", _off_site(location, status), None
    text = _body_text(response)
    form = FormReader()
    form.feed(text)
    if status == 200 and form.action:
        return "POST", form.action, dict(form.fields)
    raise _nowhere(status, text)


def _fetched(response: Any) -> dict[str, str] | None:
    """What a token endpoint's JSON answer hands the page's script, if it is not a refusal."""
    import json

    answer = json.loads(_body_text(response) or "{}")  # a token, or a user hash and its fields
    if isinstance(answer, dict) and answer and "error" not in answer:
        return {name: str(value) for name, value in answer.items() if value is not None}
    return None


def _off_site(location: str, status: object) -> str:
    """``location``, unless it is the app's own page (an AssertionError: not signed in?)."""
    if not urlsplit(location).netloc:
        raise AssertionError(
            f"the app redirected to its own page {location} (status {status}), not to the service"
            " — is the test client signed in?"
        )
    return location


def _nowhere(status: object, text: str) -> AssertionError:
    """Why the app sent the browser nowhere: nobody signed in, its refusal's code, or no reason."""
    code = _error_code(text)
    if code == "not_authenticated":
        return AssertionError(
            f"the app answered {status} not_authenticated: nobody is signed in — is the test client"
            " signed in?"
        )
    if code is not None:
        return AssertionError(f"the app refused to send the browser on: {status} {code}")
    return AssertionError(f"the app did not send the browser anywhere (status {status})")


class StandIn:
    """A verifier standing in for ``service``: records who arrived with which claims.

    :param service: the service as configured in your app (its key, placement, claims).
    :param options: more :class:`~sso_middleware.wsgi.VerifierMiddleware` options.

    >>> from sso_middleware import services
    >>> stand_in = StandIn(services.frill(key="a-secret-of-at-least-thirty-two-bytes!",
    ...                                   hosts=["feedback.acme.com"]))
    >>> stand_in.logins
    []
    """

    def __init__(self, service: Service, **options: Any) -> None:
        from .wsgi import VerifierMiddleware

        options.setdefault("cookie_name", f"{service.name}_session")
        if options.get("jwks_url") is not None:  # public keys only: the stand-in's sessions need their own
            import secrets

            options.setdefault("session_key", secrets.token_bytes(32))
        self.service = service
        self.app = VerifierMiddleware(_landing, service=service, **options)
        self._browser: Any = None  # the browser of a round trip begun and not yet answered

    @property
    def logins(self) -> list[Login]:
        """Every accepted login, oldest first."""
        return list(self.app.logins)

    def _as_browser(self, response: Any) -> tuple[str, str, dict[str, str] | None]:
        """What a browser does with what the app sent: follow a redirect, submit a form, run a
        fragment's bridge page (POST the token back), or hand a fetched token to the widget."""
        from .placements import Fragment

        method, url, form = _what_was_sent(response)
        placement = self.service.destination.placement
        if method == "TOKEN":  # a page's script fetched it: the widget hands it to the service
            return "POST", self.service.destination.listen or "/", placement.handed(form or {})
        parts = urlsplit(url)
        if parts.fragment and isinstance(placement, Fragment):
            from urllib.parse import parse_qs, unquote

            found = parse_qs(parts.fragment).get(placement.param, [""])[0] if placement.param else unquote(
                parts.fragment)
            return "POST", parts._replace(fragment="").geturl(), {"token": found}
        return method, url, form

    def follow(self, response: Any) -> Login:
        """Present what your app sent the browser (a redirect response, its ``Location``, an
        auto-submitting form page, or a token endpoint's JSON) to the stand-in; return the
        accepted login.

        Raises :class:`StandInRefused` (with the error code) if the stand-in refused it.
        """
        method, url, form = self._as_browser(response)
        parts = urlsplit(url)
        before = len(self.app.logins)
        from werkzeug.test import Client

        browser, self._browser = self._browser or Client(self.app), None
        reply = browser.open(  # a fresh browser for each sign-in (the round trip's, if one began)
            parts.path or "/",
            method=method,
            query_string=parts.query,
            data=form,
            base_url=f"{parts.scheme or 'https'}://{parts.netloc or 'localhost'}",
            headers={"Accept": "application/json"},
        )
        if reply.status_code != 303 or len(self.app.logins) == before:
            body = reply.get_json(silent=True) or {}
            raise StandInRefused(reply.status_code, str(body.get("error", "unknown")))
        return self.app.logins[-1]

    def begin(self, next: str | None = None) -> str:
        """Start a round trip as the service does (Discourse Connect sends a signed nonce first):
        the URL of your app's login path the browser is sent to. Answer it with :meth:`follow`.

        >>> from sso_middleware import services
        >>> forum = StandIn(services.discourse(secret="d836444a9e4084d5b224a60c208dce14",
        ...     url="https://forum.acme.com", provider="https://app.acme.com/sso/discourse"))
        >>> forum.begin().startswith("https://app.acme.com/sso/discourse?sso=")
        True
        """
        from werkzeug.test import Client

        listen = self.service.destination.listen or "/"
        host = getattr(self.service.returns.hosts, "first", lambda: None)() or "localhost"
        self._browser = Client(self.app)
        reply = self._browser.open(listen, query_string={"next": next} if next else None,
                                   base_url=f"https://{host}")
        location = reply.headers.get("Location")
        if reply.status_code != 303 or not location:
            raise StandInRefused(reply.status_code, "round_trip_not_started")
        return str(location)

    def round_trip(self, get: Callable[[str], Any], next: str | None = None) -> Login:
        """The whole sign-in in one call: :meth:`begin`, ``get`` (your app answering that URL,
        e.g. a test client's ``get``), :meth:`follow` of what it answered.

        ``get`` receives the path and query on your app (``/sso/discourse?sso=…&sig=…``).
        """
        parts = urlsplit(self.begin(next))
        return self.follow(get(f"{parts.path}?{parts.query}"))


class LiveStandIn(StandIn):
    """A :class:`StandIn` served by a real server on 127.0.0.1 (ephemeral port).

    ``url`` is its base URL and ``host`` its ``host:port`` (for your service's
    ``hosts`` or ``base_url``); :meth:`follow` makes a real HTTP request.
    """

    def __init__(self, service: Service, **options: Any) -> None:
        from .serving import local_server

        super().__init__(service, **options)
        self._server = local_server(self.app)
        self.host = f"127.0.0.1:{self._server.server_port}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def follow(self, response: Any) -> Login:
        import httpx

        method, url, form = self._as_browser(response)
        parts = urlsplit(url)
        target = f"{self.url}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        before = len(self.app.logins)
        reply = httpx.request(method, target, data=form, headers={"Accept": "application/json"})
        if reply.status_code != 303 or len(self.app.logins) == before:
            code = reply.json().get("error", "unknown") if reply.content else "unknown"
            raise StandInRefused(reply.status_code, str(code))
        return self.app.logins[-1]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def sso_clock() -> Callable[[], float] | None:
    """The stand-ins' clock; override with a callable returning the time to control expiry."""
    return None


@pytest.fixture
def sso_stand_in(sso_clock: Callable[[], float] | None) -> Callable[..., StandIn]:
    """Build an in-process stand-in for a service: ``sso_stand_in(services.frill(...))``."""

    def build(service: Service, **options: Any) -> StandIn:
        if sso_clock is not None:
            options.setdefault("clock", sso_clock)
        return StandIn(service, **options)

    return build


@pytest.fixture
def sso_live_stand_in(sso_clock: Callable[[], float] | None) -> Iterator[Callable[..., LiveStandIn]]:
    """Build a stand-in served on 127.0.0.1; every server is stopped after the test."""
    started: list[LiveStandIn] = []

    def build(service: Service, **options: Any) -> LiveStandIn:
        if sso_clock is not None:
            options.setdefault("clock", sso_clock)
        stand_in = LiveStandIn(service, **options)
        started.append(stand_in)
        return stand_in

    yield build
    for stand_in in started:
        stand_in.stop()


@pytest.fixture
def sso_relying_party(sso_clock: Callable[[], float] | None) -> Callable[..., RelyingParty]:
    """Build a stand-in OpenID Connect relying party for your app's provider:
    ``sso_relying_party(app, GRAFANA, issuer="https://app.acme.com/sso").sign_in(headers=...)``
    (``app`` a WSGI or ASGI app, or a running server's URL; see :class:`RelyingParty`)."""

    def build(app: Any, client: Any, **options: Any) -> RelyingParty:
        if sso_clock is not None:
            options.setdefault("clock", sso_clock)
        return RelyingParty(app, client, **options)

    return build


__all__ = ["LiveStandIn", "OpenIDLogin", "RelyingParty", "RelyingPartyRefused", "StandIn", "StandInRefused"]
