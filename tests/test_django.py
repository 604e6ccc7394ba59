"""A real Django project (auth + sessions, in-memory SQLite) behind the WSGI issuer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
from helpers import KEY
from werkzeug.test import Client

from sso_middleware import services
from sso_middleware.extractors import django_user
from sso_middleware.wsgi import IssuerMiddleware

django = pytest.importorskip("django")


@pytest.fixture(scope="module")
def django_app() -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-secret-0123456789abcdefghijklmnop",
            ALLOWED_HOSTS=["localhost"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                            "django.contrib.sessions"],
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                        "django.contrib.auth.middleware.AuthenticationMiddleware"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                   "NAME": "file:ssotest?mode=memory&cache=shared",
                                   "OPTIONS": {"uri": True}}},
            USE_TZ=True,
        )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)
    from django.contrib.auth.models import User

    User.objects.create_user("ada", "ada@example.com", "pw-0123456789", first_name="Ada",
                             last_name="Lovelace")
    from django.core.wsgi import get_wsgi_application

    return IssuerMiddleware(
        get_wsgi_application(),
        services=[services.frill(key=KEY, hosts=["feedback.acme.com"])],
        user=django_user,
        login_url="/login/",
    )


def _login(request: Any) -> Any:
    from django.contrib.auth import authenticate, login
    from django.http import HttpResponse

    user = authenticate(request, username="ada", password="pw-0123456789")
    login(request, user)
    return HttpResponse("logged in")


def _home(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(f"django home for {request.user.get_username() or 'nobody'}")


def _urls() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("login/", csrf_exempt(_login)), path("", _home)]


def __getattr__(name: str) -> Any:  # ROOT_URLCONF reads urlpatterns lazily, after setup
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


def test_django_session_user_is_signed_in_to_frill(django_app: Any) -> None:
    client = Client(django_app)
    anonymous = client.get("/sso/frill")
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"] == "/login/?next=%2Fsso%2Ffrill"
    assert client.post("/login/").status_code == 200
    r = client.get("/sso/frill?redirect=https://feedback.acme.com/b/1")
    token = parse_qs(urlsplit(r.headers["Location"]).query)["ssoToken"][0]
    claims = pyjwt.decode(token, KEY, algorithms=["HS256"])
    assert (claims["email"], claims["name"]) == ("ada@example.com", "Ada Lovelace")
    assert client.get("/").get_data(as_text=True) == "django home for ada"
    client.set_cookie("sessionid", "forged-session-key")
    assert client.get("/sso/frill").status_code == 303  # back to login: no such session
