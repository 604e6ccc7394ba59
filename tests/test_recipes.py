"""Each framework recipe of docs/recipes.md, pasted into a fresh directory and served as its users
serve it (gunicorn, uvicorn, hypercorn, waitress, granian): the framework's own login signs Ada in,
and the library's stand-ins for Frill and Invoiced receive her with the right claims."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import BLOCKS, ENV
from servers import command_server, free_port

from sso_middleware import services
from sso_middleware.testing import StandIn

pytestmark = [pytest.mark.slow, pytest.mark.network]
BOARD = "https://feedback.acme.com/b/ideas"
Login = Callable[[httpx.Client], None]


def form_login(browser: httpx.Client) -> None:
    assert browser.post("/login", data={"user": "ada"}).status_code in (200, 302, 303)


def json_login(browser: httpx.Client) -> None:
    assert browser.post("/login", json={"user": "ada"}).status_code in (200, 201)


def insecure_cookies(browser: httpx.Client) -> None:
    """A framework whose auth cookie is ``Secure`` by default, tested over plain http: the test
    browser sends it anyway (a real one would, over https)."""
    for cookie in browser.cookies.jar:
        cookie.secure = False


def round_trip(url: str, login: Login, *, user_id: Any = 1, login_page: str = "/login") -> None:
    """Anonymous -> the app's login page; signed in -> Frill's and Invoiced's stand-ins accept her."""
    with httpx.Client(base_url=url, timeout=30) as browser:
        anonymous = browser.get("/sso/frill", params={"redirect": BOARD})
        assert anonymous.status_code == 303, anonymous.text
        assert anonymous.headers["location"].startswith(f"{login_page}?next=")
        login(browser)
        insecure_cookies(browser)
        frill = StandIn(services.frill(key=ENV["FRILL_SSO_KEY"], hosts=["feedback.acme.com"]))
        sent = browser.get("/sso/frill", params={"redirect": BOARD})
        claims = frill.follow(sent.headers["location"]).claims
        assert (claims["id"], claims["email"], claims["name"]) == (user_id, "ada@example.com", "Ada Lovelace")
        invoiced = StandIn(services.invoiced(key=ENV["INVOICED_SSO_KEY"], company="acme"))
        sub = invoiced.follow(browser.get("/sso/invoiced").headers["location"]).claims["sub"]
        assert sub == 1 and type(sub) is int  # Invoiced's customer id stays an integer


def paste(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).write_text(BLOCKS[name])
    return tmp_path


@pytest.mark.parametrize(
    ("name", "server", "login", "user_id"),
    [
        pytest.param("flask_login_app.py", ["gunicorn", "flask_login_app:app", "-b", "127.0.0.1:{port}"],
                     form_login, 1, id="flask-login-gunicorn"),
        pytest.param("quart_app.py", ["hypercorn", "quart_app:app", "-b", "127.0.0.1:{port}"],
                     form_login, "1", id="quart-auth-hypercorn"),
        pytest.param("litestar_app.py", ["uvicorn", "litestar_app:app", "--port", "{port}"],
                     json_login, 1, id="litestar-sessionauth-uvicorn"),
        pytest.param("falcon_app.py", ["waitress", "--listen=127.0.0.1:{port}", "falcon_app:app"],
                     json_login, 1, id="falcon-wsgi-waitress"),
        pytest.param("falcon_asgi_app.py", ["granian", "--interface", "asgi", "--port", "{port}",
                                            "falcon_asgi_app:app"], json_login, 1, id="falcon-asgi-granian"),
        pytest.param("pyramid_app.py", ["waitress", "--listen=127.0.0.1:{port}", "pyramid_app:app"],
                     form_login, 1, id="pyramid-waitress"),
        pytest.param("bottle_app.py", ["gunicorn", "bottle_app:app", "-b", "127.0.0.1:{port}"],
                     form_login, 1, id="bottle-gunicorn"),
        pytest.param("fastapi_app.py", ["hypercorn", "fastapi_app:app", "-b", "127.0.0.1:{port}"],
                     json_login, 1, id="fastapi-hypercorn"),
    ],
)
def test_recipe_on_a_real_server(name: str, server: list[str], login: Login, user_id: Any,
                                 tmp_path: Path) -> None:
    with command_server(server, paste(tmp_path, name), env=ENV) as url:
        round_trip(url, login, user_id=user_id)


def test_the_litestar_recipe_with_its_issuer_listed_as_middleware_stops_at_start_saying_why(
    tmp_path: Path,
) -> None:
    """Listed in ``middleware=[...]`` instead of added by the plugin, the issuer would never see
    ``/sso/frill`` (Litestar runs middleware only for its routes): uvicorn cannot load the app, and
    says why and what to write instead, before it serves a single 404."""
    recipe = BLOCKS["litestar_app.py"]
    listed = recipe.replace("plugins=[issuer_plugin(", "middleware=[DefineMiddleware(IssuerMiddleware, ")
    assert listed != recipe
    (tmp_path / "litestar_app.py").write_text("from litestar.middleware import DefineMiddleware\n"
                                              "from sso_middleware.asgi import IssuerMiddleware\n" + listed)
    uvicorn = [sys.executable, "-m", "uvicorn", "litestar_app:app", "--port", str(free_port())]
    started = subprocess.run(uvicorn, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             env={**os.environ, **ENV})
    assert started.returncode != 0
    assert ("ConfigurationError: app: IssuerMiddleware is listed in a Litestar app's middleware"
            in started.stderr), started.stderr
    assert "plugins=[issuer_plugin(services=..., user=...)]" in started.stderr


def django_project(tmp_path: Path) -> str:
    """``django-admin startproject`` with the recipe's settings, wsgi.py and asgi.py, Ada in its
    database; the session cookie of her login (made by Django's own test client)."""
    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, **ENV, "PYTHONDONTWRITEBYTECODE": "1"})
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("-m", "django", "startproject", "mysite", ".")
    with (tmp_path / "mysite" / "settings.py").open("a") as settings:
        settings.write("\n" + BLOCKS["mysite/settings.py"])
    for name in ("mysite/wsgi.py", "mysite/asgi.py"):
        (tmp_path / name).write_text(BLOCKS[name])
    return run("-c", "\n".join([
        "import os, django",
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'mysite.settings'",
        "django.setup()",
        "from django.core.management import call_command",
        "from django.contrib.auth.models import User",
        "from django.test import Client",
        "call_command('migrate', verbosity=0)",
        "ada = User.objects.create_user('ada', 'ada@example.com', 'pw-0123456789', first_name='Ada',"
        " last_name='Lovelace')",
        "client = Client()",
        "client.force_login(ada)",
        "print(client.cookies['sessionid'].value)",
    ])).strip()


@pytest.mark.parametrize(
    "server",
    [
        pytest.param(["gunicorn", "mysite.wsgi:application", "-b", "127.0.0.1:{port}"], id="wsgi-gunicorn"),
        pytest.param(["uvicorn", "mysite.asgi:application", "--port", "{port}"], id="asgi-uvicorn"),
    ],
)
def test_django_recipe_on_a_real_server(server: list[str], tmp_path: Path) -> None:
    pytest.importorskip("django")
    session = django_project(tmp_path)

    def login(browser: httpx.Client) -> None:
        browser.cookies.set("sessionid", session)

    with command_server(server, tmp_path, env=ENV) as url:
        round_trip(url, login, login_page="/admin/login/")  # Django's user id: the primary key
