"""A demo to click through: an app that signs its users in to stand-in Frill, Invoiced, Discourse
and Grafana, and boots an Intercom-style chat widget with a token its page fetches.

One process (on 127.0.0.1 unless ``--host`` says otherwise) serves five
things: the app (pick a user, then open a service), a stand-in Frill board
under ``/frill/``, a stand-in Invoiced portal under ``/invoiced/``, a
stand-in Discourse forum under ``/forum/`` (Discourse Connect: the forum
starts the round trip with a signed nonce) and a stand-in Grafana under
``/grafana/`` (ES256: it verifies with the JWKS the app publishes, fetched
over HTTP like the real one).
The stand-ins are ``VerifierMiddleware`` configured like the real services, so
what they show is exactly what the real ones would have received. Keys are
random for each run; nothing is stored.

    python -m sso_middleware demo [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from .. import services
from ..dates import ago
from ..jwks import RemoteKeys
from ..keys import Key
from ..principal import Principal
from ..serving import local_server
from ..session import Sessions
from ..snippets import token_script
from ..wsgi import PRINCIPAL_KEY, IssuerMiddleware, VerifierMiddleware
from ._common import OK, Out

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

USERS = {
    "ada": {"id": 1, "email": "ada@example.com", "name": "Ada Lovelace", "invoiced_id": 1001},
    "grace": {"id": 2, "email": "grace@example.com", "name": "Grace Hopper", "invoiced_id": 1002},
    "linus": {"id": 3, "email": "linus@example.com", "name": "Linus Torvalds", "invoiced_id": 1003},
}
_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    ".card{border:1px solid #ccc;border-radius:8px;padding:1rem 1.5rem;margin:1rem 0}"
    "button,.button{font:inherit;padding:.4rem 1rem;margin:.2rem;border-radius:6px;"
    "border:1px solid #456;background:#f4f7fb;color:#123;text-decoration:none;cursor:pointer;"
    "display:inline-block}"
    "pre{background:#f6f6f6;padding:.8rem;overflow:auto}"
    ".claims{border-collapse:collapse}.claims th,.claims td{text-align:left;padding:.2rem .8rem .2rem 0;"
    "border-bottom:1px solid #eee;font-weight:normal}.claims th{font-family:monospace}"
    ".claims td{word-break:break-all}"
    ".intro{color:#345}"
)


_INTRO = (
    "<p class='intro'>This demo is five sites in one process: <strong>Acme App</strong>, your app, "
    "which is the identity provider, and stand-ins for four services its users sign in to, a "
    "<strong>Frill</strong> feedback board, an <strong>Invoiced</strong> billing portal, a "
    "<strong>Discourse</strong> community forum and <strong>Grafana</strong> dashboards. The "
    "stand-ins are sso_middleware's own verifier configured like the real services, so they accept "
    "exactly what the real ones would. Sign in as someone, then open a service.</p>"
)


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _claims_table(claims: Mapping[str, Any], now: float) -> str:
    """The verified claims, times as dates and "expires in 5 min" rather than epoch numbers."""
    rows = []
    for name, value in claims.items():
        shown = escape(json.dumps(value))
        if name in ("iat", "exp", "nbf") and isinstance(value, (int, float)):
            when = time.strftime("%H:%M:%S", time.localtime(value))
            shown = f"{when} <small>({ago(value - now)})</small>"
        rows.append(f"<tr><th>{escape(name)}</th><td>{shown}</td></tr>")
    return f"<table class='claims'>{''.join(rows)}</table>"


def _stand_in_page(label: str, logins: Iterable[Any], people: Mapping[Any, str]) -> WSGIApplication:
    """A stand-in service's page: who is signed in, and the claims their token carried.
    ``people`` names the ids this service knows (Invoiced only knows a customer id)."""

    def page(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        principal: Principal | None = environ.get(PRINCIPAL_KEY)
        if principal is None:
            body = (f"<h1>{escape(label)}</h1><div class='card'><p>Not signed in.</p></div>"
                    "<p><a href='/'>Back to Acme App</a></p>")
        else:
            claims: Mapping[str, Any] = next(
                (login.claims for login in reversed(list(logins)) if login.principal.id == principal.id),
                {},
            )
            who = people.get(principal.id) or principal.name or str(principal.id)
            known = f" <small>(id {escape(str(principal.id))})</small>" if who != str(principal.id) else ""
            body = (
                f"<h1>{escape(label)}</h1><div class='card'><p>Signed in as "
                f"<strong>{escape(who)}</strong>{known}</p>"
                f"<p>The token it received, verified:</p>{_claims_table(claims, time.time())}</div>"
                "<p><a href='/'>Back to Acme App</a></p>"
            )
        return _page(label, body)(environ, start_response)

    return page


class _BuildingQuietly(logging.Filter):
    """Drops the warnings the library logs while this thread builds the demo: the stand-ins accept
    what their services accept (Frill: tokens without ``exp``) on purpose, and a warning saying so
    is for a developer configuring one, not for someone opening the demo (errors still show)."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING or record.thread != self.thread


def build(base_url: str) -> WSGIApplication:
    """The whole demo as one WSGI app, for a server reachable at ``base_url``."""
    quiet, logger = _BuildingQuietly(), logging.getLogger("sso_middleware")
    logger.addFilter(quiet)
    try:
        return _build(base_url)
    finally:
        logger.removeFilter(quiet)


def _build(base_url: str) -> WSGIApplication:
    host = base_url.split("://", 1)[1]
    frill_key, invoiced_key, forum_key, chat_key = (secrets.token_urlsafe(32) for _ in range(4))
    grafana_key = Key.generate("ES256")  # a key pair: the app publishes its public half
    sessions = Sessions(Key(secrets.token_bytes(32)), cookie_name="demo_user")

    def current_user(request: Request) -> Principal | None:
        header = request.headers.get("Cookie")
        session = sessions.read(header, time.time(), Principal.coerce)[0] if header else None
        principal = session.view if session else None
        return Principal.coerce(USERS.get(str(principal.id))) if principal else None

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        user = current_user(request)
        if request.path == "/login" and request.method == "POST":
            name = request.form.get("user", "")
            nxt = request.form.get("next", "/")
            response = Response(status=303, headers={
                "Location": nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"})
            if name in USERS:
                response.headers.add(
                    "Set-Cookie", sessions.open(Principal(name), "demo", time.time(), False)
                )
            return response(environ, start_response)
        if request.path == "/logout" and request.method == "POST":
            response = Response(status=303, headers={"Location": "/"})
            response.headers.add("Set-Cookie", sessions.close(False))
            return response(environ, start_response)
        if request.path not in ("/", "/login"):
            return _page("Not found", "<p>Not found.</p>", 404)(environ, start_response)
        if user is None:
            options = "".join(
                f"<label><input type='radio' name='user' value='{escape(key)}'"
                f"{' checked' if i == 0 else ''}> {escape(str(data['name']))}</label><br>"
                for i, (key, data) in enumerate(USERS.items())
            )
            nxt = escape(request.args.get("next", "/"))
            body = (
                f"<h1>Acme App</h1>{_INTRO}<div class='card'><p>Sign in as:</p>"
                f"<form method='post' action='/login'>{options}"
                f"<input type='hidden' name='next' value='{nxt}'>"
                "<button type='submit'>Sign in</button></form></div>"
            )
        else:
            board = quote(f"{base_url}/frill/b/roadmap", safe="")
            body = (
                f"<h1>Acme App</h1><div class='card'><p>Hello, <strong>{escape(user.name or '')}"
                "</strong>.</p>"
                f"<a class='button' id='frill' href='/sso/frill?redirect={board}'>Feedback (Frill)</a>"
                "<a class='button' id='invoiced' href='/sso/invoiced'>Billing (Invoiced)</a>"
                "<a class='button' id='forum' href='/forum/session/sso_login?next=/forum/'>"
                "Community (Discourse)</a>"
                "<a class='button' id='grafana' href='/sso/grafana?redirect=/d/overview'>Dashboards "
                "(Grafana)</a>"
                "<form method='post' action='/logout'><button type='submit'>Sign out</button></form>"
                "</div>"
                "<div class='card'><p><strong>Support chat</strong> (an Intercom-style widget): "
                "<span id='chat'>starting…</span></p><p><strong>Feedback widget</strong> (Frill in "
                "widget mode, beside the button above): <span id='frill-widget'>starting…</span></p></div>"
                "<p class='intro'>Each button sends you through <code>/sso/frill</code>, "
                "<code>/sso/invoiced</code>, <code>/sso/grafana</code> or (after the forum's signed "
                "request) <code>/sso/discourse</code>: the issuer signs a short-lived, one-time answer "
                "with that service's key and the fields it documents, and the stand-in verifies it, "
                "opens its own session and shows what it received. Grafana's token is signed with a "
                "key pair; the stand-in checks it against <a href='/sso/.well-known/jwks.json'>the "
                "public keys this app publishes</a>.</p>"
                "<script>function bootChat(token, expiresAt) {var c = JSON.parse(atob(token.split('.')[1]"
                ".replace(/-/g, '+').replace(/_/g, '/'))); document.getElementById('chat').textContent = "
                "'booted for user_id ' + c.user_id + ' with a token from /sso/intercom/token, good until ' "
                "+ new Date(expiresAt * 1000).toLocaleTimeString();}</script>"
                + token_script("/sso/intercom/token", "bootChat")
                + "<script>function bootFrill(token) {var c = JSON.parse(atob(token.split('.')[1]"
                ".replace(/-/g, '+').replace(/_/g, '/'))); document.getElementById('frill-widget')"
                ".textContent = 'a token for ' + c.email + ' from /sso/frill/token, what "
                "Frill(\\'container\\', {key, ssoToken}) takes';}</script>"
                + token_script("/sso/frill/token", "bootFrill")
            )
        return _page("Acme App", body)(environ, start_response)

    issuer = IssuerMiddleware(
        app,
        services=[
            services.frill(key=frill_key, hosts=[host], default_redirect=f"{base_url}/frill/", widget=True),
            services.invoiced(
                key=invoiced_key,
                base_url=f"{base_url}/invoiced",
                customer_id="invoiced_id",
                issuer="Acme App",
            ),
            services.discourse(secret=forum_key, url=f"{base_url}/forum"),
            services.grafana(key=grafana_key, url=f"{base_url}/grafana", algorithm="ES256"),
            services.intercom(key=chat_key),
        ],
        user=current_user,
        login_url="/login",
    )
    frill_logins: list[Any] = []
    invoiced_logins: list[Any] = []
    names = {data["id"]: str(data["name"]) for data in USERS.values()}
    customers = {data["invoiced_id"]: f"{data['name']}'s account" for data in USERS.values()}
    board = f"{base_url}/frill/b/roadmap"
    frill = VerifierMiddleware(
        _stand_in_page("Frill board (stand-in)", frill_logins, names),
        service=services.frill(key=frill_key, hosts=[host]),
        cookie_name="frill_session",
        login_url=f"{base_url}/sso/frill?redirect={quote(board, safe='')}",  # as Frill's "SSO login URL"
        on_login=frill_logins.append,
    )
    invoiced = VerifierMiddleware(
        _stand_in_page("Invoiced portal (stand-in)", invoiced_logins, customers),
        service=services.invoiced(key=invoiced_key, base_url=base_url),
        cookie_name="invoiced_session",
        default_return="/invoiced/",
        login_url=f"{base_url}/sso/invoiced",
        on_login=invoiced_logins.append,
    )
    forum_logins: list[Any] = []
    forum = VerifierMiddleware(
        _stand_in_page("Forum (stand-in Discourse)", forum_logins,
                       {str(data["id"]): str(data["name"]) for data in USERS.values()}),
        # the forum's "discourse connect url" is the app's login path: the forum starts there
        service=services.discourse(secret=forum_key, url=f"{base_url}/forum",
                                   provider=f"{base_url}/sso/discourse"),
        cookie_name="forum_session",
        default_return="/forum/",
        login_url=f"{base_url}/forum/session/sso_login",
        on_login=forum_logins.append,
    )
    grafana_logins: list[Any] = []
    by_sub = {str(data["id"]): str(data["name"]) for data in USERS.values()}
    grafana = VerifierMiddleware(
        _stand_in_page("Grafana (stand-in)", grafana_logins, by_sub),
        service=services.grafana(key=grafana_key, url=f"{base_url}/grafana", algorithm="ES256"),
        # as Grafana's jwk_set_url: fetched over HTTP from the app, never handed the key itself
        jwks_url=RemoteKeys(f"{base_url}/sso/.well-known/jwks.json", timeout=2),
        session_key=secrets.token_bytes(32),
        cookie_name="grafana_session",
        default_return="/grafana/d/overview",
        login_url=f"{base_url}/sso/grafana?redirect=/d/overview",
        on_login=grafana_logins.append,
    )
    mounted: dict[str, WSGIApplication] = {"/frill": frill, "/invoiced": invoiced, "/forum": forum,
                                           "/grafana": grafana}
    return _canonical(host, DispatcherMiddleware(issuer, mounted))


_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def _canonical(host: str, app: WSGIApplication) -> WSGIApplication:
    """Send a request that names the demo by another loopback name (``localhost`` for
    ``127.0.0.1``) to the one the demo was started with: cookies and the services' host lists are per host,
    so one name keeps every hop signed in."""

    def canonical(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        asked = environ.get("HTTP_HOST", host)
        if asked == host or asked.rpartition(":")[0] not in _LOOPBACK_NAMES:
            return app(environ, start_response)
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/")
        query = environ.get("QUERY_STRING", "")
        location = f"http://{host}{environ.get('SCRIPT_NAME', '')}{path}" + (f"?{query}" if query else "")
        return Response(status=307, headers={"Location": location})(environ, start_response)

    return canonical


class DemoServer:
    """The demo on a real server (``port=0`` picks a free one); ``url`` is where to point a browser."""

    def __init__(self, port: int = 8000, host: str = "127.0.0.1") -> None:
        self._server = local_server(_unready, port, host)
        # a wildcard address is no place to send a browser: name this machine's loopback instead
        name = "127.0.0.1" if host in ("", "0.0.0.0", "::") else f"[{host}]" if ":" in host else host  # noqa: S104
        self.url = f"http://{name}:{self._server.server_port}"
        self._server.app = build(self.url)

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop a server started with :meth:`start`."""
        self._server.shutdown()
        self.close()

    def close(self) -> None:
        self._server.server_close()


def _unready(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(port: int = 8000, host: str = "127.0.0.1") -> None:
    """Serve the demo until Ctrl-C (SIGINT) or SIGTERM."""
    # our own handlers: a shell that started us in the background may have left SIGINT ignored
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    server = DemoServer(port=port, host=host)
    sys.stdout.write(f"sso_middleware demo: open {server.url}/ in your browser (Ctrl-C to stop)\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        sys.stdout.write("demo stopped\n")


# -- the command: sso-middleware demo ------------------------------------------------------

HELP = "serve a click-through demo on 127.0.0.1"
EXAMPLES = ("sso-middleware demo", "sso-middleware demo --host 0.0.0.0 --port 8080")


def add_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    demo.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")


def execute(args: argparse.Namespace, out: Out) -> int:
    run(port=args.port, host=args.host)
    return OK


__all__ = [
    "EXAMPLES",
    "HELP",
    "DemoServer",
    "add_arguments",
    "build",
    "execute",
    "run",
]
