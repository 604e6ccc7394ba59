"""The halves compose: verifier in front of issuer, stacked verifiers, ready extractors,
framework defaults, and wiring mistakes caught when the middleware is built."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import pytest
from flask import Flask
from helpers import KEY, OTHER_KEY, ASGIClient, Client, Clock, Skin, header_user
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sso_middleware import ConfigurationError, Key, asgi, services, wsgi
from sso_middleware.extractors import remote_user, scope_user, session_key
from sso_middleware.testing import StandIn
from sso_middleware.tokens import sign

OWN_KEY = "own-apps-key-0123456789-abcdefghijklmnopqr"
NOW = 1_800_000_000


def own_token(sub: Any = "ada", **claims: Any) -> str:
    """A token one of your own apps signed (the verifier's side of 'sign in between apps')."""
    return sign({"sub": sub, "email": "ada@example.com", "name": "Ada Lovelace",
                 "iat": NOW, "exp": NOW + 60, "jti": f"j-{sub}-{len(claims)}", **claims}, Key(OWN_KEY))


def frill() -> services.Service:
    return services.frill(key=KEY, hosts=["feedback.acme.com"])


def chained(skin: Skin, clock: Clock) -> Client:
    """Your own apps' sign-in (verifier) in front of the issuer that goes on to Frill."""
    extractor = remote_user if skin.name == "wsgi" else scope_user
    issuer = skin.module.IssuerMiddleware(skin.echo, services=[frill()], user=extractor, clock=clock)
    return skin.client(skin.module.VerifierMiddleware(issuer, key=OWN_KEY, clock=clock))


def chained_answers(skin: Skin) -> list[tuple[int, str, Any]]:
    clock = Clock(NOW)
    client = chained(skin, clock)
    answers = []
    anonymous = client.get("/sso/frill?redirect=https://feedback.acme.com/b/ideas")
    answers.append((anonymous.status, anonymous.location, None))
    signed_in = client.get(f"/sso?token={own_token()}&next=/feedback")
    answers.append((signed_in.status, signed_in.location, None))
    onward = client.get("/sso/frill?redirect=https://feedback.acme.com/b/ideas")
    login = StandIn(frill(), clock=clock).follow(onward.location)
    answers.append((onward.status, onward.location.split("?")[0], dict(login.claims)))
    return answers


def test_sign_in_between_your_apps_then_on_to_frill(skin: Skin) -> None:
    anonymous, signed_in, onward = chained_answers(skin)
    assert anonymous[0] == 401  # nobody yet: the issuer has no login_url here
    assert signed_in[:2] == (303, "/feedback")
    assert onward[:2] == (303, "https://feedback.acme.com/b/ideas")
    claims = onward[2]
    assert (claims["id"], claims["email"], claims["name"]) == ("ada", "ada@example.com", "Ada Lovelace")


def test_chained_recipe_answers_the_same_on_both_skins() -> None:
    wsgi, asgi = chained_answers(Skin("wsgi")), chained_answers(Skin("asgi"))
    for answer in (wsgi, asgi):  # the jti differs per run; compare all but the signed token
        answer[2][2].pop("jti")
    assert wsgi == asgi


def test_an_integer_id_stays_an_integer_through_the_chain(skin: Skin) -> None:
    clock = Clock(NOW)
    client = chained(skin, clock)
    client.get(f"/sso?token={own_token(sub=7)}")
    onward = client.get("/sso/frill?redirect=https://feedback.acme.com/")
    login = StandIn(frill(), clock=clock).follow(onward.location)
    assert login.claims["id"] == 7


def test_two_verifiers_stacked_as_the_readme_shows_keep_both_sessions(skin: Skin) -> None:
    clock = Clock(NOW)
    inner = skin.module.VerifierMiddleware(skin.echo, key=OWN_KEY, path="/sso", clock=clock)
    outer = skin.module.VerifierMiddleware(inner, service=frill(), clock=clock)
    client = skin.client(outer)
    assert client.get(f"/sso?token={own_token()}").status == 303
    frill_token = sign({"id": "ada", "email": "ada@example.com", "name": "Ada", "iat": NOW,
                        "exp": NOW + 60, "jti": "f1"}, Key(KEY))
    assert client.get(f"/b/ideas?ssoToken={frill_token}").status == 303
    for _ in range(3):  # neither clears the other's cookie
        page = client.get("/anything")
        assert page.status == 200 and page.json()["user"] == "ada"
        assert "set-cookie" not in {name.lower() for name in page.headers.keys()}
    assert client.cookie("sso_session") and client.cookie("sso_session_frill")


def test_the_same_cookie_name_twice_in_one_stack_is_refused(skin: Skin) -> None:
    inner = skin.module.VerifierMiddleware(skin.echo, key=OWN_KEY, cookie_name="session")
    with pytest.raises(ConfigurationError, match="already uses the cookie 'session'"):
        skin.module.VerifierMiddleware(inner, service=frill(), cookie_name="session")


def test_default_cookie_names_are_one_per_receiver(skin: Skin) -> None:
    names = [
        skin.module.VerifierMiddleware(skin.echo, **options)._sessions.cookie_name
        for options in ({"key": OWN_KEY}, {"key": OWN_KEY, "path": "/partners/sso"}, {"service": frill()},
                        {"service": services.invoiced(key=OTHER_KEY, company="acme")})
    ]
    assert names == ["sso_session", "sso_session_partners_sso", "sso_session_frill", "sso_session_invoiced"]


# -- Starlette's own pieces ---------------------------------------------------------


class HeaderBackend(AuthenticationBackend):
    """Starlette's documented shape: a SimpleUser from a header."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        name = conn.headers.get("x-user")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def hello(request: Request) -> JSONResponse:
    return JSONResponse({"session": dict(request.session) if "session" in request.scope else None})


def login(request: Request) -> JSONResponse:
    request.session["user"] = {"id": 7, "email": "ada@example.com", "name": "Ada"}
    return JSONResponse({"ok": True})


def starlette_app(*middleware: Middleware) -> Starlette:
    return Starlette(routes=[Route("/", hello), Route("/login", login)], middleware=list(middleware))


def issuer(user: Any) -> Middleware:
    # these apps' user ids are their Invoiced customer ids, and say so
    return Middleware(asgi.IssuerMiddleware, user=user, services=[
        services.invoiced(key=OTHER_KEY, company="acme", customer_id=lambda user: user.id)])


def test_scope_user_accepts_starlettes_simple_user() -> None:
    app = starlette_app(Middleware(AuthenticationMiddleware, backend=HeaderBackend()), issuer(scope_user))
    reply = ASGIClient(app).get("/sso/invoiced", headers={"X-User": "ada"})
    assert reply.status == 303
    invoiced = StandIn(services.invoiced(key=OTHER_KEY, company="acme"))
    assert invoiced.follow(reply.location).claims["sub"] == "ada"


@pytest.mark.parametrize(
    ("stack", "missing"),
    [
        ((issuer(session_key("user")), Middleware(SessionMiddleware, secret_key="s" * 32)),
         "SessionMiddleware"),
        ((issuer(session_key("user")),), "SessionMiddleware"),
        ((issuer(scope_user), Middleware(AuthenticationMiddleware, backend=HeaderBackend())),
         "AuthenticationMiddleware"),
    ],
    ids=["session-inside-issuer", "no-session", "auth-inside-issuer"],
)
def test_middleware_in_the_wrong_order_is_explained_not_a_silent_401(
    stack: tuple[Middleware, ...], missing: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = ASGIClient(starlette_app(*stack))
    with caplog.at_level(logging.ERROR, "sso_middleware"):
        reply = client.get("/sso/invoiced", headers={"X-User": "ada", "Accept": "application/json"})
    assert reply.status == 500 and reply.json()["error"] == "configuration_error"
    message = " ".join(r.getMessage() for r in caplog.records)
    assert f"{missing} is missing or sits inside IssuerMiddleware" in message
    assert "outermost first" in message


def test_session_middleware_in_the_right_order_signs_in() -> None:
    app = starlette_app(Middleware(SessionMiddleware, secret_key="s" * 32), issuer(session_key("user")))
    client = ASGIClient(app)
    client.get("/login")
    reply = client.get("/sso/invoiced")
    assert reply.status == 303 and reply.location.startswith("https://acme.invoiced.com/login/")


# -- wiring mistakes, at construction ------------------------------------------------


def test_a_wsgi_middleware_around_an_asgi_app_is_refused() -> None:
    from fastapi import FastAPI


    for app in (starlette_app(), FastAPI()):
        with pytest.raises(ConfigurationError, match="is WSGI but the app it wraps is ASGI"):
            wsgi.IssuerMiddleware(app, services=[frill()], user=remote_user)
        with pytest.raises(ConfigurationError, match="is WSGI but the app it wraps is ASGI"):
            wsgi.VerifierMiddleware(app, key=OWN_KEY)


def test_an_asgi_middleware_around_a_wsgi_app_is_refused() -> None:

    flask_app = Flask(__name__)
    for app in (flask_app, flask_app.wsgi_app):
        with pytest.raises(ConfigurationError, match=r"is ASGI but the app it wraps is WSGI.*app.wsgi_app"):
            asgi.IssuerMiddleware(app, services=[frill()], user=scope_user)
        with pytest.raises(ConfigurationError, match="is ASGI but the app it wraps is WSGI"):
            asgi.VerifierMiddleware(app, key=OWN_KEY)


def test_a_ready_extractor_for_the_other_skin_is_refused() -> None:
    async def asgi_app(scope: Any, receive: Any, send: Any) -> None: ...

    for extractor in (remote_user,):
        with pytest.raises(ConfigurationError, match=r"reads a WSGI request.*scope_user"):
            asgi.IssuerMiddleware(asgi_app, services=[frill()], user=extractor)
    for extractor in (scope_user, session_key("user")):
        with pytest.raises(ConfigurationError, match=r"Starlette request.*for Flask.*flask_login_user"):
            wsgi.IssuerMiddleware(Flask(__name__).wsgi_app, services=[frill()], user=extractor)
        with pytest.raises(ConfigurationError, match=r"reads a Starlette request.*remote_user"):
            wsgi.IssuerMiddleware(lambda environ, start_response: [], services=[frill()], user=extractor)


def test_apps_of_unknown_shape_are_not_judged(skin: Skin) -> None:
    """A callable we cannot classify (a partial, a class with *args) is left alone."""
    import functools

    skin.module.VerifierMiddleware(functools.partial(skin.echo), key=OWN_KEY)

    class Anything:
        def __call__(self, *args: Any) -> Any: ...

    skin.module.VerifierMiddleware(Anything(), key=OWN_KEY)
    with pytest.raises(ConfigurationError, match="not callable"):
        skin.module.VerifierMiddleware(object(), key=OWN_KEY)


# -- the clock test tools move -------------------------------------------------------


@pytest.mark.parametrize("tool", ["freezegun", "time_machine"])
def test_freezegun_and_time_machine_move_the_middlewares_clock(skin: Skin, tool: str) -> None:
    if tool == "freezegun":
        import freezegun

        travel: Any = freezegun.freeze_time
    else:
        import time_machine

        travel = lambda t: time_machine.travel(t, tick=False)  # noqa: E731
    _, client = skin.verifier(key=OWN_KEY)
    with travel("2027-01-15 12:00:00"):
        now = int(time.time())
        token = sign({"sub": "ada", "iat": now, "exp": now + 60, "jti": "t1"}, Key(OWN_KEY))
        assert client.get(f"/sso?token={token}").status == 303  # live at the frozen time
    with travel("2027-01-15 12:05:00"):
        token = sign({"sub": "ada", "iat": now, "exp": now + 60, "jti": "t2"}, Key(OWN_KEY))
        reply = client.get(f"/sso?token={token}", headers={"Accept": "application/json"})
        assert reply.status == 401 and reply.json()["error"] == "token_expired"


# -- mistakes explained in the framework's own terms ------------------------------------------


def _litestar() -> Any:
    from litestar import Litestar

    return Litestar(logging_config=None)  # Litestar's default would reconfigure the root logger


def _django_asgi() -> Any:
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler.__new__(ASGIHandler)  # get_asgi_application()'s class, Django not set up


def _quart_asgi_app() -> Any:
    from quart import Quart

    return Quart(__name__).asgi_app


@pytest.mark.parametrize(
    ("app", "fix"),
    [
        pytest.param(_litestar, r"for Litestar, use .*litestar_session_auth", id="litestar"),
        pytest.param(_django_asgi, r"for Django, use sso_middleware.extractors.django_user", id="django"),
        pytest.param(_quart_asgi_app, r"for Quart, use sso_middleware.extractors.quart_user", id="quart"),
    ],
)
def test_starlettes_extractor_on_another_framework_names_that_frameworks_own(app: Any, fix: str) -> None:
    with pytest.raises(ConfigurationError, match=fix) as refused:
        asgi.IssuerMiddleware(app(), services=[frill()], user=scope_user)
    assert "AuthenticationMiddleware" not in refused.value.message  # no Starlette advice


@pytest.mark.parametrize(
    ("app", "fix"),
    [
        pytest.param(_litestar, r"asgi.IssuerMiddleware \(Litestar: .*issuer_plugin", id="litestar"),
        pytest.param(_quart_asgi_app, r"\(Quart: app.asgi_app = IssuerMiddleware\(app.asgi_app", id="quart"),
        pytest.param(_django_asgi, r"\(Django: application = IssuerMiddleware\(get_asgi_", id="django"),
    ],
)
def test_the_wrong_skin_is_explained_in_the_frameworks_terms(app: Any, fix: str) -> None:
    with pytest.raises(ConfigurationError, match=fix):
        wsgi.IssuerMiddleware(app(), services=[frill()], user=remote_user)


def test_an_aiohttp_application_is_refused_with_a_pointer_to_the_recipe(skin: Skin) -> None:
    from aiohttp import web

    with pytest.raises(ConfigurationError, match=r"is neither \(aiohttp .*docs/recipes.md, aiohttp"):
        skin.module.IssuerMiddleware(web.Application(), services=[frill()], user=header_user)
    with pytest.raises(ConfigurationError, match="is neither"):
        skin.module.VerifierMiddleware(web.Application(), key=OWN_KEY)


def _issuer_listed() -> Any:
    from litestar.middleware import DefineMiddleware

    from sso_middleware.extractors.litestar import litestar_session

    return DefineMiddleware(asgi.IssuerMiddleware, services=[frill()], user=litestar_session("user"))


def _issuer_factory() -> Any:  # any ASGI middleware factory Litestar calls with app=
    return functools.partial(asgi.IssuerMiddleware, services=[frill()], user=header_user)


def _verifier_listed() -> Any:
    from litestar.middleware import DefineMiddleware

    return DefineMiddleware(asgi.VerifierMiddleware, key=OWN_KEY)


_ISSUER_FIX = (r"IssuerMiddleware is listed in a Litestar app's middleware, and Litestar runs middleware "
               r"only for requests that match one of its routes, so /sso/frill would be answered with a "
               r"404 .*"
               r"Litestar\(\.\.\., plugins=\[issuer_plugin\(services=\.\.\., user=\.\.\.\)\]\) from "
               r"sso_middleware.extractors.litestar .*docs/recipes.md, Litestar")
_VERIFIER_FIX = (r"VerifierMiddleware is listed in a Litestar app's middleware.*/sso, /sso/logout would be "
                 r"answered with a 404 .*app = VerifierMiddleware\(Litestar\(\.\.\.\), \.\.\.\)")


@pytest.mark.parametrize(
    ("listed", "where", "fix"),
    [
        pytest.param(_issuer_listed, "app", _ISSUER_FIX, id="issuer-DefineMiddleware"),
        pytest.param(_issuer_factory, "app", _ISSUER_FIX, id="issuer-asgi-factory"),
        pytest.param(_issuer_listed, "inside", _ISSUER_FIX, id="issuer-inside-a-litestar-middleware"),
        pytest.param(_issuer_listed, "handler", _ISSUER_FIX, id="issuer-on-a-handler"),
        pytest.param(_verifier_listed, "app", _VERIFIER_FIX, id="verifier-DefineMiddleware"),
    ],
)
def test_a_middleware_listed_in_litestar_is_refused_when_the_app_is_made(listed: Any, where: str,
                                                                         fix: str) -> None:
    """Litestar builds the middleware it lists for each of its routes when ``Litestar(...)`` is
    made, and runs it only for requests that match one: the issuer's paths would be a silent 404."""
    from litestar import Litestar, get
    from litestar.middleware import ASGIMiddleware

    class Timing(ASGIMiddleware):  # Litestar's own kind of middleware, between ours and the route
        async def handle(self, scope: Any, receive: Any, send: Any, next_app: Any) -> None:
            await next_app(scope, receive, send)

    @get("/", middleware=[listed()] if where == "handler" else [], sync_to_thread=False)
    def home() -> str:
        return "home"

    middleware = {"app": [listed()], "inside": [listed(), Timing()], "handler": []}[where]
    with pytest.raises(ConfigurationError, match=fix):
        Litestar([home], middleware=middleware, logging_config=None)


def test_litestars_issuer_plugin_signs_in_and_a_verifier_wraps_the_whole_app() -> None:
    """The two places the recipe gives, in process: the plugin's issuer sees the session Litestar
    loaded, and a verifier around the whole ``Litestar(...)`` is a whole app, not a route's."""
    from litestar import Litestar
    from litestar.middleware.session.client_side import CookieBackendConfig
    from litestar.testing import TestClient

    from sso_middleware.extractors.litestar import issuer_plugin, litestar_session

    session = CookieBackendConfig(secret=b"s" * 16)
    app = Litestar(middleware=[session.middleware], logging_config=None,
                   plugins=[issuer_plugin(services=[frill()], user=litestar_session("user"))])
    with TestClient(app, session_config=session) as client:
        client.set_session_data({"user": {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"}})
        reply = client.get("/sso/frill?redirect=https%3A%2F%2Ffeedback.acme.com%2Fb", follow_redirects=False)
    assert StandIn(frill()).follow(reply.headers["location"]).claims["email"] == "ada@example.com"
    verifier = asgi.VerifierMiddleware(app, key=OWN_KEY)
    assert verifier.app is app


def test_an_issuer_mounted_at_its_own_prefix_answers_instead_of_a_silent_404() -> None:
    """Starlette's Mount keeps the prefix in the path; aiohttp_asgi and older servers strip it;
    werkzeug's DispatcherMiddleware moves it to SCRIPT_NAME. Each reaches the issuer."""
    from starlette.routing import Mount
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client as WerkzeugClient

    invoiced = StandIn(services.invoiced(key=OTHER_KEY, company="acme"))
    sends = services.invoiced(key=OTHER_KEY, company="acme", customer_id="invoiced_id")
    issuer = asgi.IssuerMiddleware(skin_echo_asgi, services=[sends], user=header_user)
    mounted = Starlette(routes=[Mount("/sso", app=issuer)])
    reply = ASGIClient(mounted).get("/sso/invoiced", headers={"X-User": "ada"})
    assert invoiced.follow(reply.location).claims["sub"] == 1234

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    stripped = {"type": "http", "method": "GET", "path": "/invoiced", "root_path": "/sso", "scheme": "http",
                "query_string": b"", "headers": [(b"x-user", b"ada")], "http_version": "1.1"}
    import asyncio

    asyncio.run(issuer(stripped, receive, send))
    assert sent[0]["status"] == 303

    wsgi_issuer = wsgi.IssuerMiddleware(lambda e, s: [], services=[sends], user=header_user)
    dispatched = DispatcherMiddleware(lambda e, s: [], {"/sso": wsgi_issuer})
    assert WerkzeugClient(dispatched).get("/sso/invoiced", headers={"X-User": "ada"}).status_code == 303


async def skin_echo_asgi(scope: Any, receive: Any, send: Any) -> None:
    await JSONResponse({"path": scope["path"]}, status_code=404)(scope, receive, send)
