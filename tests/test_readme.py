"""Every Python block in the README and docs/ runs as written, and each recipe signs a user in
end to end on its real framework.

A block starts with a comment naming its file (``# flask_app.py``). Each is written to a fresh
directory and run there by a new interpreter, as a newcomer pasting it would; a ``test_*.py``
block is run by pytest; Django's blocks go into a project made by ``django-admin startproject``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import BLOCKS, ENV, ROOT, ASGIClient
from werkzeug.test import Client

from sso_middleware import Key, services
from sso_middleware.jwks import RemoteKeys
from sso_middleware.testing import StandIn
from sso_middleware.tokens import sign

BOARD = "https://feedback.acme.com/b/ideas"


PLAIN = sorted(name for name in BLOCKS if "/" not in name and not name.startswith("test_"))


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **ENV, "PYTHONDONTWRITEBYTECODE": "1"})


def test_every_block_is_found() -> None:
    assert {"flask_app.py", "starlette_app.py", "verifier_app.py", "test_feedback.py", "my_services.py",
            "replay_store.py", "fastapi_app.py", "chain_wsgi.py", "chain_asgi.py",
            "mysite/settings.py", "mysite/wsgi.py", "durable_store.py"} <= set(BLOCKS)


@pytest.mark.parametrize("name", PLAIN)
def test_the_block_runs_as_written_in_a_fresh_directory(name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_text(BLOCKS[name])
    result = run([sys.executable, name], tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_test_block_passes_under_pytest(tmp_path: Path) -> None:
    (tmp_path / "test_feedback.py").write_text(BLOCKS["test_feedback.py"])
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_feedback.py"]
    result = run(pytest_command, tmp_path)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_the_relying_party_block_passes_under_pytest(tmp_path: Path) -> None:
    """The README's stand-in relying party test, in a fresh directory, by the installed plugin."""
    (tmp_path / "test_grafana_login.py").write_text(BLOCKS["test_grafana_login.py"])
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_grafana_login.py"],
                 tmp_path)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


# -- each recipe, end to end -------------------------------------------------------------


@pytest.fixture
def recipe(tmp_path: Path) -> Iterator[Any]:
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        path = tmp_path / name
        path.write_text(BLOCKS[name])
        module_name = f"readme_{path.stem}_{len(loaded)}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loaded.append(module_name)
        spec.loader.exec_module(module)
        return module

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)


def frill() -> StandIn:
    return StandIn(services.frill(key=ENV["FRILL_SSO_KEY"], hosts=["feedback.acme.com"]))


def test_flask_app_factory(recipe: Any) -> None:
    client = recipe("flask_app.py").create_app().test_client()
    anonymous = client.get(f"/sso/frill?redirect={BOARD}")
    assert anonymous.status_code == 303 and anonymous.location.startswith("/login?next=%2Fsso%2Ffrill")
    signed_in = client.post(anonymous.location, data={"user": "ada"})
    assert signed_in.location == f"/sso/frill?redirect={BOARD}"
    login = frill().follow(client.get(signed_in.location))
    assert (login.claims["email"], login.claims["name"]) == ("ada@example.com", "Ada Lovelace")
    invoiced = StandIn(services.invoiced(key=ENV["INVOICED_SSO_KEY"], company="acme"))
    assert invoiced.follow(client.get("/sso/invoiced")).claims["sub"] == 1001  # Invoiced's customer id
    assert client.post("/login?next=//evil.example", data={"user": "ada"}).location == "/"


def test_starlette_app(recipe: Any) -> None:
    client = ASGIClient(recipe("starlette_app.py").app)
    assert client.get("/sso/frill").status == 401  # no login_url here: nobody is signed in
    client.request("POST", "/login", data=json.dumps({"user": "ada"}).encode(),
                   headers={"Content-Type": "application/json"})
    login = frill().follow(client.get(f"/sso/frill?redirect={BOARD}").location)
    assert login.claims["email"] == "ada@example.com"


def test_fastapi_dependency(recipe: Any) -> None:
    client = ASGIClient(recipe("fastapi_app.py").app)
    assert client.get("/me").status == 401
    client.request("POST", "/login", data=json.dumps({"user": "ada"}).encode(),
                   headers={"Content-Type": "application/json"})
    assert client.get("/me").json()["name"] == "Ada Lovelace"  # the dependency, in a route
    login = frill().follow(client.get(f"/sso/frill?redirect={BOARD}").location)
    assert login.claims["name"] == "Ada Lovelace"  # the same dependency, as the extractor


def test_widget_app_serves_the_token_its_page_fetches_and_the_jwks(recipe: Any) -> None:
    client = ASGIClient(recipe("widget_app.py").app)
    assert client.get("/sso/intercom/token").json()["error"] == "not_authenticated"
    client.request("POST", "/login")
    page = client.get("/")
    assert "intercom_user_jwt" in page.text and '"/sso/intercom/token"' in page.text
    fetched = client.get("/sso/intercom/token", headers={"Sec-Fetch-Site": "same-origin"})
    assert fetched.json()["expires_at"] > time.time()
    intercom = StandIn(services.intercom(key=ENV["INTERCOM_SECRET"]))
    assert intercom.follow(fetched).claims["user_id"] == "1"
    jwks = client.get("/sso/.well-known/jwks.json").json()
    grafana = StandIn(services.grafana(key=ENV["GRAFANA_PRIVATE_KEY"], url="https://grafana.acme.com"),
                      jwks_url=RemoteKeys("https://app.acme.com/sso/.well-known/jwks.json",
                                          fetch=lambda url, timeout: json.dumps(jwks).encode()))
    login = grafana.follow(client.get("/sso/grafana?redirect=/d/abc").location)
    assert login.claims["email"] == "ada@example.com"


def test_jwks_verifier_builds_as_written(recipe: Any) -> None:
    assert recipe("jwks_verifier.py").app._remote.url == "https://app.acme.com/sso/.well-known/jwks.json"


def own_token(now: int) -> str:
    """A token your main app signed for this one (real time: the recipes use the real clock)."""
    return sign({"sub": "ada", "email": "ada@example.com", "name": "Ada Lovelace", "iat": now,
                 "exp": now + 60, "jti": "j1"}, Key(ENV["APPS_SSO_KEY"]))


@pytest.mark.parametrize("name", ["chain_wsgi.py", "chain_asgi.py"])
def test_sign_in_between_your_apps_then_on_to_frill(recipe: Any, name: str) -> None:
    app = recipe(name).app
    client: Any = Client(app.wsgi_app) if name == "chain_wsgi.py" else ASGIClient(app)
    first = client.get(f"/sso/frill?redirect={BOARD}")
    status = getattr(first, "status_code", None) or first.status
    location = first.headers["location"]
    assert status == 303 and location.startswith("https://app.acme.com/sso/docs?next=%2Fsso%2Ffrill")
    landing = client.get(f"/sso?token={own_token(int(time.time()))}&next=/")
    assert landing.headers["location"] == "/"
    onward = client.get(f"/sso/frill?redirect={BOARD}")
    login = frill().follow(onward.headers["location"])
    assert (login.claims["id"], login.claims["email"], login.claims["name"]) == (
        "ada", "ada@example.com", "Ada Lovelace")


def test_two_verifiers_in_one_app(recipe: Any) -> None:
    client = Client(recipe("verifier_app.py").app)
    now = int(time.time())
    client.get(f"/sso?token={own_token(now)}")
    token = sign({"id": "grace", "email": "g@example.com", "name": "Grace", "iat": now, "exp": now + 60,
                  "jti": "f1"}, Key(ENV["FRILL_SSO_KEY"]))
    client.get(f"/b/ideas?ssoToken={token}")
    assert client.get_cookie("sso_session") and client.get_cookie("sso_session_frill")
    for _ in range(2):  # both sessions stay; the app sees the one of the verifier nearest to it
        page = client.get("/")
        assert page.get_data(as_text=True) == "Hello, ada" and "Set-Cookie" not in page.headers


@pytest.mark.slow
def test_django_settings_and_wsgi_in_a_startproject(tmp_path: Path) -> None:
    pytest.importorskip("django")
    assert run([sys.executable, "-m", "django", "startproject", "mysite", "."], tmp_path).returncode == 0
    with (tmp_path / "mysite" / "settings.py").open("a") as settings:
        settings.write("\n" + BLOCKS["mysite/settings.py"])
    (tmp_path / "mysite" / "wsgi.py").write_text(BLOCKS["mysite/wsgi.py"])
    (tmp_path / "drive.py").write_text(textwrap.dedent("""
        import json, os
        from mysite.wsgi import application  # the README's file, as Django's server would load it
        from django.core.management import call_command
        from django.contrib.auth.models import User
        from django.test import Client as DjangoClient
        from werkzeug.test import Client
        from sso_middleware import services
        from sso_middleware.testing import StandIn

        call_command("migrate", verbosity=0)
        ada = User.objects.create_user("ada", "ada@example.com", "pw-0123456789",
                                       first_name="Ada", last_name="Lovelace")
        django = DjangoClient()
        django.force_login(ada)
        browser = Client(application)
        anonymous = browser.get("/sso/frill?redirect=https://feedback.acme.com/b")
        browser.set_cookie("sessionid", django.cookies["sessionid"].value)
        signed_in = browser.get("/sso/frill?redirect=https://feedback.acme.com/b")
        frill = StandIn(services.frill(key=os.environ["FRILL_SSO_KEY"], hosts=["feedback.acme.com"]))
        print(json.dumps({"anonymous": anonymous.headers["Location"],
                          "claims": dict(frill.follow(signed_in).claims)}))
    """))
    result = run([sys.executable, "drive.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["anonymous"].startswith("/admin/login/?next=%2Fsso%2Ffrill")
    assert (answer["claims"]["email"], answer["claims"]["name"]) == ("ada@example.com", "Ada Lovelace")


def test_when_sso_breaks_runs_as_written(tmp_path: Path) -> None:
    """The shell walk-through: mint, decode, verify --explain, a refusal, check, in order."""
    readme = (ROOT / "README.md").read_text()
    script = re.search(r"```bash\n(# when_sso_breaks\.sh\n.*?)```", readme, re.S)
    assert script is not None
    (tmp_path / "starlette_app.py").write_text(BLOCKS["starlette_app.py"])
    (tmp_path / "when_sso_breaks.sh").write_text(script.group(1))
    bin_dir = str(Path(sys.executable).parent)  # where the venv put the sso-middleware script
    env = {**os.environ, **ENV, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "NO_COLOR": "1"}
    result = subprocess.run(["bash", "-e", "when_sso_breaks.sh"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "NOT VERIFIED" in out and 'plan: "pro"' in out
    assert "pass  signature" in out and "accepted" in out
    assert "refused: token_expired" in out and "refused an hour from now, as it should be" in out
    assert "issues  /sso/frill" in out and "0 problem(s)" in out
