"""A stand-in OpenID Connect relying party: what Grafana's server does with your app's provider.

:class:`RelyingParty` runs the authorization code flow with PKCE (S256) against your app, in
process (the app object: WSGI or ASGI) or live (a URL), as the signed-in user a test chooses
(request headers, cookies, or your app's own login form), and returns an :class:`OpenIDLogin`:
the ID token's claims, verified as a strict relying party verifies them (discovery's issuer,
the signature through the published JWKS by ``kid``, ``iss``, ``aud``, ``azp``, ``exp``,
``iat``, ``nonce``, ``at_hash``), and the userinfo endpoint's answer (its ``sub`` the ID
token's). Anything the app answers that a relying party would refuse raises
:class:`RelyingPartyRefused`, which says at which step and why (never with a token in it).

The pytest plugin (:mod:`sso_middleware.testing`) hands it out as the ``sso_relying_party``
fixture. Imports here are the standard library's; PyJWT, werkzeug and the rest load on use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeGuard
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

if TYPE_CHECKING:
    from .oidc.clients import Client

_BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
_HOPS = 10
_DISCOVERY = "/.well-known/openid-configuration"


class RelyingPartyRefused(AssertionError):
    """The stand-in relying party refused what the app answered (or the app refused the flow).

    ``step`` is where (``discovery``, ``authorize``, ``login``, ``token``, ``id_token``,
    ``jwks``, ``userinfo``), ``code`` the OAuth error or the check that failed.

    >>> str(RelyingPartyRefused("token", "invalid_grant", "the code was already used"))
    'the relying party stopped at token: invalid_grant (the code was already used)'
    """

    def __init__(self, step: str, code: str, detail: str = "") -> None:
        self.step = step
        self.code = code
        super().__init__(f"the relying party stopped at {step}: {code}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class OpenIDLogin:
    """One completed sign-in: what the relying party now knows about the user.

    :param claims: the ID token's claims, verified.
    :param userinfo: the userinfo endpoint's answer (its ``sub`` is the ID token's).
    :param header: the ID token's JOSE header (``alg``, ``kid``, ``typ``).
    :param scope: the scope the token endpoint granted.
    :param tokens: the token endpoint's whole answer (``id_token``, ``access_token``, ...).

    >>> login = OpenIDLogin({"sub": "7"}, {"sub": "7", "email": "ada@example.com"}, {"alg": "RS256"},
    ...                     "openid email")
    >>> login.sub, login.userinfo["email"]
    ('7', 'ada@example.com')
    """

    claims: Mapping[str, Any]
    userinfo: Mapping[str, Any]
    header: Mapping[str, Any]
    scope: str
    tokens: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def sub(self) -> str:
        """The user's subject identifier, as the relying party keys its account."""
        return str(self.claims["sub"])


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as the relying party reads it (header names lower-case, repeats kept)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def json(self, step: str, url: str = "") -> Any:
        try:
            return json.loads(self.body)
        except ValueError as e:
            where = f"{urlsplit(url).path} " if url else ""
            raise RelyingPartyRefused(step, "not_json", f"{where}answered {self.status} without JSON"
                                      + (" — is the issuer URL right?" if step == "discovery" else "")) from e


Send = Callable[[str, str, Mapping[str, str], bytes], Answer]
"""``send(method, url, headers, body)``: one request to the app, redirects not followed."""


def _wsgi_sender(app: Any) -> Send:
    def send(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        from werkzeug.test import Client

        parts = urlsplit(url)
        reply = Client(app, use_cookies=False).open(
            parts.path or "/", method=method, query_string=parts.query, data=body, headers=dict(headers),
            base_url=f"{parts.scheme}://{parts.netloc}", content_type=headers.get("Content-Type"))
        try:
            return Answer(reply.status_code, tuple((k.lower(), v) for k, v in reply.headers.items()),
                          reply.get_data())
        finally:
            reply.close()

    return send


def _asgi_sender(app: Any) -> Send:
    def send(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        import asyncio

        coroutine = _asgi_call(app, method, url, headers, body)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: a sync test
            return asyncio.run(coroutine)
        from concurrent.futures import ThreadPoolExecutor  # an async test: its loop is busy

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    return send


async def _asgi_call(app: Any, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """One HTTP request through an ASGI app, as a server would make it."""
    from urllib.parse import unquote

    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or "localhost"
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": parts.scheme, "path": unquote(parts.path or "/"), "raw_path": (parts.path or "/").encode(),
        "query_string": parts.query.encode(), "root_path": "",
        "headers": [(b"host", parts.netloc.encode()), *((k.lower().encode(), v.encode())
                                                        for k, v in headers.items())],
        "server": (host, parts.port or (443 if https else 80)), "client": ("127.0.0.1", 50000),
    }
    if body:
        scope["headers"].append((b"content-length", str(len(body)).encode()))
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    raw = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start.get("headers", [])]
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(int(start["status"]), tuple(raw), data)


def _live_sender(base: str) -> Send:
    """Real HTTP to the server at ``base`` (every URL of the issuer's site goes there)."""
    target = urlsplit(base)

    def send(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        import http.client

        parts = urlsplit(url)
        kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        connection = kind(target.netloc, timeout=30)
        try:
            connection.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                               body=body or None, headers=dict(headers))
            reply = connection.getresponse()
            return Answer(reply.status, tuple((k.lower(), v) for k, v in reply.getheaders()), reply.read())
        finally:
            connection.close()

    return send


def _sender(app: Any) -> Send:
    if isinstance(app, str):
        parts = urlsplit(app)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"RelyingParty: {app!r} is not the URL of a running server")
        return _live_sender(app)
    import inspect

    from .wiring import app_protocol

    protocol = app_protocol(app)
    if protocol is None and inspect.iscoroutinefunction(getattr(app, "__call__", None)):  # noqa: B004
        protocol = "asgi"
    return _asgi_sender(app) if protocol == "asgi" else _wsgi_sender(app)


def _error_code(answer: Answer) -> str:
    """The error code on one of the middleware's refusal pages (JSON or HTML), or the status."""
    text = answer.body.decode("utf-8", "replace")
    found = re.search(r'"error": ?"([a-z_]+)"|Error code: <code>([a-z_]+)</code>', text)
    return (found.group(1) or found.group(2)) if found else f"status_{answer.status}"


def _consent_form(answer: Answer) -> tuple[str, dict[str, str]] | None:
    """The consent page's form (its action and fields), when ``answer`` is one."""
    from .messages import FormReader

    if b'name="sso_consent"' not in answer.body:
        return None
    reader = FormReader()
    reader.feed(answer.body.decode("utf-8", "replace"))
    return reader.action or "", dict(reader.fields)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def half_hash(value: str, algorithm: str) -> str | None:
    """``at_hash`` of ``value`` for an ID token signed with ``algorithm`` (OpenID Connect Core
    3.1.3.6: the left half of its hash, the hash of the algorithm; SHA-512 for EdDSA).

    >>> half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNXA", "RS256")
    'gJvqtKFk7qcpTRgWIu4Xcg'
    """
    name = "sha512" if algorithm == "EdDSA" else f"sha{algorithm[2:]}"
    if name not in ("sha256", "sha384", "sha512"):
        return None
    digest = hashlib.new(name, value.encode("ascii")).digest()
    return _b64(digest[: len(digest) // 2])


class _Browser:
    """The signed-in user's browser: its headers and cookies go to the app's site only."""

    def __init__(self, send: Send, origin: str, headers: Mapping[str, str] | None,
                 cookies: Mapping[str, str] | None) -> None:
        self.send = send
        self.origin = origin
        self.headers = dict(headers or {})
        self.cookies = dict(cookies or {})

    def open(self, method: str, url: str, form: Mapping[str, str] | None = None) -> Answer:
        headers = {"Accept": _BROWSER_ACCEPT, **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(dict(form)).encode() if form is not None else b""
        if form is not None:  # a form on one of the site's own pages, as a browser marks it
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Sec-Fetch-Site", "same-origin")
        answer = self.send(method, url, headers, body)
        self._keep(answer)
        return answer

    def _keep(self, answer: Answer) -> None:
        from http.cookies import CookieError, SimpleCookie

        for name, value in answer.headers:
            if name != "set-cookie":
                continue
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value)
            except CookieError:
                continue
            for key, morsel in jar.items():
                gone = morsel["max-age"] in ("0", "-1") or not morsel.value
                if gone:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    def on_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return not parts.netloc or f"{parts.scheme}://{parts.netloc}" == self.origin


class RelyingParty:
    """A stand-in OpenID Connect relying party (a service such as Grafana) for ``app``.

    :param app: your app: a WSGI or ASGI application (called in process), or the base URL of a
        running server (``"http://127.0.0.1:8000"``: every URL on the issuer's site goes there).
    :param client: the :class:`~sso_middleware.oidc.Client` your app configured (its id, secret
        and its only redirect URI are taken from it), or a client id.
    :param issuer: the issuer URL, exactly as the provider was given it.
    :param secret: the client secret (when ``client`` is an id; ``None`` for a public client).
    :param redirect_uri: the callback URL (needed when the client registered several).
    :param scope: the scopes asked for (default: all the client may receive).
    :param auth: the token endpoint's client authentication: ``client_secret_basic`` (the
        default with a secret), ``client_secret_post``, or ``none`` (a public client: PKCE alone).
    :param clock: the relying party's clock for ``exp``/``iat`` (default: the wall clock).
    :param leeway: seconds of clock skew allowed on ``exp`` and ``iat``.

    >>> from sso_middleware.keys import Key
    >>> from sso_middleware.oidc import Client, OpenIDProvider
    >>> from sso_middleware.wsgi import IssuerMiddleware
    >>> grafana = Client("grafana", secret="grafana-client-secret-0123456789",
    ...                  redirect_uris=["https://grafana.acme.com/login/generic_oauth"])
    >>> def site(environ, start_response):
    ...     start_response("200 OK", [("Content-Type", "text/plain")])
    ...     return [b"home"]
    >>> def user(request):
    ...     return {"id": 7, "email": "ada@example.com"} if request.headers.get("X-User") else None
    >>> issuer = "https://app.acme.com/sso"
    >>> app = IssuerMiddleware(site, services=[], user=user, login_url="/login",
    ...     openid=OpenIDProvider(issuer=issuer, key=Key.generate("RS256"), clients=[grafana]))
    >>> login = RelyingParty(app, grafana, issuer=issuer).sign_in(headers={"X-User": "ada"})
    >>> login.claims["aud"], login.userinfo["email"]
    ('grafana', 'ada@example.com')
    """

    def __init__(
        self,
        app: Any,
        client: Client | str,
        *,
        issuer: str,
        secret: str | None = None,
        redirect_uri: str | None = None,
        scope: str | None = None,
        auth: str | None = None,
        clock: Callable[[], float] | None = None,
        leeway: float = 0,
    ) -> None:
        self.send = _sender(app)
        self.issuer = issuer
        self.client_id, self.secret, self.redirect_uri, self.scope = self._client(
            client, secret, redirect_uri, scope)
        self.auth = auth or ("none" if self.secret is None else "client_secret_basic")
        if self.auth not in ("client_secret_basic", "client_secret_post", "none"):
            raise ValueError(f"RelyingParty: auth={self.auth!r}; use client_secret_basic, "
                             "client_secret_post or none")
        self.clock = clock
        self.leeway = leeway
        self._metadata: dict[str, Any] | None = None

    @staticmethod
    def _client(client: Client | str, secret: str | None, redirect_uri: str | None,
                scope: str | None) -> tuple[str, str | None, str, str]:
        if isinstance(client, str):
            if redirect_uri is None:
                raise ValueError("RelyingParty: pass redirect_uri= with a client id (or pass the Client)")
            return client, secret, redirect_uri, scope or "openid email profile"
        uris = sorted(client.redirect_uris)
        if redirect_uri is None and len(uris) != 1:
            raise ValueError(f"RelyingParty: {client!r} has several redirect URIs; pass redirect_uri=")
        order = ("openid", "profile", "email", "groups")
        scopes = scope or " ".join(s for s in order if s in client.scopes)
        stored = client.secret.decode("utf-8") if client.secret is not None else None
        return client.client_id, secret if secret is not None else stored, redirect_uri or uris[0], scopes

    # -- the back channel: discovery, JWKS, token, userinfo ----------------------------------

    def _get_json(self, step: str, url: str, headers: Mapping[str, str] | None = None) -> Any:
        answer = self.send("GET", url, {"Accept": "application/json", **(headers or {})}, b"")
        if answer.status != 200:
            raise RelyingPartyRefused(step, _error_code(answer), f"GET {urlsplit(url).path} answered "
                                      f"{answer.status}")
        return answer.json(step, url)

    @property
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once and checked (``issuer`` exact, the
        endpoints present, the code flow and S256 offered)."""
        if self._metadata is None:
            doc = self._get_json("discovery", self.issuer + _DISCOVERY)
            if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
                raise RelyingPartyRefused("discovery", "issuer_mismatch", "discovery's issuer is not the "
                                          "configured one, character for character")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
                if not isinstance(doc.get(name), str):
                    raise RelyingPartyRefused("discovery", "missing_metadata", name)
            if "code" not in doc.get("response_types_supported", ()) or "S256" not in doc.get(
                    "code_challenge_methods_supported", ()):
                raise RelyingPartyRefused("discovery", "unsupported", "the code flow with PKCE S256")
            self._metadata = doc
        return self._metadata

    def _redeem(self, code: str, verifier: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier}
        headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        if self.auth == "client_secret_basic":  # RFC 6749 2.3.1: each part form-encoded first
            pair = f"{quote(self.client_id, safe='')}:{quote(self.secret or '', safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = self.client_id
            if self.auth == "client_secret_post":
                form["client_secret"] = self.secret or ""
        answer = self.send("POST", self.metadata["token_endpoint"], headers, urlencode(form).encode())
        tokens = answer.json("token")
        if answer.status != 200 or not isinstance(tokens, dict):
            error = tokens.get("error", "") if isinstance(tokens, dict) else ""
            raise RelyingPartyRefused("token", str(error) or f"status_{answer.status}",
                                      str(tokens.get("error_description", "")) if isinstance(tokens, dict)
                                      else "")
        if "no-store" not in (answer.header("cache-control") or ""):
            raise RelyingPartyRefused("token", "cacheable", "the token answer lacks Cache-Control: no-store")
        if str(tokens.get("token_type", "")).lower() != "bearer" or not all(
                isinstance(tokens.get(name), str) for name in ("id_token", "access_token")):
            raise RelyingPartyRefused("token", "invalid_answer", "token_type Bearer, id_token, access_token")
        return tokens

    def _userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        info = self._get_json("userinfo", self.metadata["userinfo_endpoint"],
                              {"Authorization": f"Bearer {access_token}"})
        if not isinstance(info, dict) or info.get("sub") != sub:  # OpenID Connect Core 5.3.2
            raise RelyingPartyRefused("userinfo", "sub_mismatch", "userinfo's sub is not the ID token's")
        return info

    # -- the ID token ------------------------------------------------------------------------

    def verify_id_token(self, token: str, *, nonce: str | None,
                        access_token: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(claims, header)`` of ``token``, verified as a strict relying party does: its key
        from the JWKS by ``kid`` (an algorithm discovery lists, never ``none``), the signature,
        ``iss`` and ``aud`` exact, ``azp``, ``exp``/``iat`` on :attr:`clock`, the ``nonce`` sent
        (and none when none was sent), ``at_hash``. Raises :class:`RelyingPartyRefused`."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise RelyingPartyRefused("id_token", "malformed", type(e).__name__) from e
        algorithm = header.get("alg")
        if algorithm in (None, "none") or algorithm not in self.metadata.get(
                "id_token_signing_alg_values_supported", ()):
            raise RelyingPartyRefused("id_token", "unexpected_alg", str(algorithm))
        key = self._key(header.get("kid"), str(algorithm))
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[str(algorithm)], audience=self.client_id, issuer=self.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_exp": False,
                         "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError as e:
            raise RelyingPartyRefused("id_token", type(e).__name__, str(e)) from e
        self._check_claims(claims, nonce)
        if access_token is not None and "at_hash" in claims and claims["at_hash"] != half_hash(
                access_token, str(algorithm)):
            raise RelyingPartyRefused("id_token", "at_hash_mismatch")
        return claims, dict(header)

    def _fresh(self, claims: Mapping[str, Any], max_age: int) -> None:
        """With ``max_age`` asked, ``auth_time`` is required and no older than that (leeway aside)."""
        auth_time = claims.get("auth_time")
        if not _is_number(auth_time):
            raise RelyingPartyRefused("id_token", "auth_time_missing", "max_age was asked for")
        now = self.clock() if self.clock is not None else time.time()
        if now - auth_time > max_age + self.leeway:
            raise RelyingPartyRefused("id_token", "auth_time_too_old", f"signed in more than {max_age} s ago")

    def _key(self, kid: object, algorithm: str) -> Any:
        import jwt

        jwks = self._get_json("jwks", self.metadata["jwks_uri"])
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        found = [k for k in keys or () if isinstance(k, dict) and k.get("kid") == kid and k.get("use", "sig")
                 == "sig"]
        if kid is None or len(found) != 1:
            raise RelyingPartyRefused("jwks", "unknown_kid", "no single published key has the ID token's kid")
        if found[0].get("alg", algorithm) != algorithm:
            raise RelyingPartyRefused("jwks", "alg_mismatch", "the key is published for another algorithm")
        try:
            return jwt.PyJWK(found[0], algorithm=algorithm).key
        except jwt.PyJWTError as e:
            raise RelyingPartyRefused("jwks", "unusable_key", type(e).__name__) from e

    def _check_claims(self, claims: Mapping[str, Any], nonce: str | None) -> None:
        """The ID token's claims as a strict relying party reads them, one check a step."""
        self._check_times(claims)
        self._check_azp(claims)
        if claims.get("nonce") != nonce or ("nonce" in claims) != (nonce is not None):
            raise RelyingPartyRefused("id_token", "nonce_mismatch", "the nonce is not the one sent"
                                      if nonce is not None else "a nonce came back that was never sent")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise RelyingPartyRefused("id_token", "invalid_sub", "sub must be a non-empty string")

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self.clock() if self.clock is not None else time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or now >= exp + self.leeway:
            raise RelyingPartyRefused("id_token", "expired", "exp is not after the relying party's clock")
        if not _is_number(iat) or iat > now + self.leeway:
            raise RelyingPartyRefused("id_token", "issued_in_the_future", "iat is after the clock")

    def _check_azp(self, claims: Mapping[str, Any]) -> None:
        """``azp`` names this client when present, and is required when ``aud`` names several."""
        audience = claims.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if (several or "azp" in claims) and claims.get("azp") != self.client_id:
            raise RelyingPartyRefused("id_token", "azp_mismatch")

    # -- the front channel: the browser at the authorization endpoint ------------------------

    def authorization_url(self, *, state: str, challenge: str, nonce: str | None = None,
                          prompt: str | None = None, max_age: int | None = None) -> str:
        """The URL the relying party sends the browser to (``response_type=code``, PKCE S256)."""
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": self.scope, "state": state, "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        if nonce is not None:
            params["nonce"] = nonce
        if prompt is not None:
            params["prompt"] = prompt
        if max_age is not None:
            params["max_age"] = str(max_age)
        endpoint = str(self.metadata["authorization_endpoint"])
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    def _callback(self, browser: _Browser, url: str, login: Mapping[str, str] | None,
                  consent: str = "allow") -> str:
        """Follow the browser from ``url`` until the app sends it to the redirect URI: its
        redirects on the app's site, once to its login page (``login`` posted there), and the
        consent page's button (``consent``: ``allow`` or ``deny``) when the app asks."""
        method, signed_in = "GET", login is None
        form: Mapping[str, str] | None = None
        for _ in range(_HOPS):
            answer = browser.open(method, url, form)
            location = answer.header("location")
            asked = _consent_form(answer) if answer.status == 200 and location is None else None
            if asked is not None:  # the consent page: the user presses a button; its form posts back
                method, url, form = "POST", urljoin(url, asked[0]), {**asked[1], "decision": consent}
                continue
            if answer.status not in (301, 302, 303, 307, 308) or location is None:
                if signed_in or answer.status >= 400:
                    raise self._stuck(url, answer, "login" if form is not None else "authorize")
                method, form, signed_in = "POST", login, True  # a login page: sign in on it
                continue
            target = urljoin(url, location)
            if not browser.on_site(target):
                if target.split("?")[0] != self.redirect_uri:
                    raise RelyingPartyRefused("authorize", "redirected_elsewhere", "the app sent the "
                                              "browser off its site, not to the redirect URI")
                return target
            if not signed_in and not target.startswith(self.metadata["authorization_endpoint"]):
                method, form, url, signed_in = "POST", login, target, True  # to its login page: sign in
                continue
            method, form, url = "GET", None, target
        raise RelyingPartyRefused("authorize", "too_many_redirects")

    @staticmethod
    def _stuck(url: str, answer: Answer, step: str) -> RelyingPartyRefused:
        path = urlsplit(url).path
        if answer.status < 400:
            return RelyingPartyRefused(step, "no_redirect", f"{path} answered {answer.status} and sent the "
                                       "browser nowhere — is the user signed in? (pass headers=, cookies= "
                                       "or login=)")
        return RelyingPartyRefused(step, _error_code(answer), f"{path} answered {answer.status}")

    def _code(self, callback: str, state: str) -> str:
        params = dict(parse_qsl(urlsplit(callback).query, keep_blank_values=True))
        if params.get("state") != state:
            raise RelyingPartyRefused("authorize", "state_mismatch", "the state is not the one sent")
        if self.metadata.get("authorization_response_iss_parameter_supported") and params.get(
                "iss") != self.issuer:  # RFC 9207: a mix-up defence
            raise RelyingPartyRefused("authorize", "iss_mismatch", "the callback's iss is not the issuer")
        if "error" in params:
            raise RelyingPartyRefused("authorize", params["error"], params.get("error_description", ""))
        if not params.get("code"):
            raise RelyingPartyRefused("authorize", "no_code")
        return str(params["code"])

    def sign_in(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        login: Mapping[str, str] | None = None,
        nonce: bool = True,
        prompt: str | None = None,
        consent: Literal["allow", "deny"] = "allow",
        max_age: int | None = None,
    ) -> OpenIDLogin:
        """The whole flow, as the service and the user's browser run it: discovery, the
        browser to the authorization endpoint (with ``headers`` and ``cookies`` on every
        request to the app's site; sent to a login page, it posts ``login`` there as the form,
        follows the app back), the code to the token endpoint with the PKCE verifier, the ID
        token verified, userinfo. Raises :class:`RelyingPartyRefused`.

        :param headers: request headers that make the browser signed in (e.g. ``X-User``).
        :param cookies: cookies the browser holds (e.g. a session cookie your test made).
        :param login: the form fields of your app's login page, posted where it sends the browser.
        :param nonce: send a nonce (and require it back); ``False`` requires none back.
        :param prompt: e.g. ``"none"`` (then nobody signed in is ``login_required``).
        :param consent: the button the user presses on a consent page (a client with
            ``trusted=False``): ``"deny"`` ends in ``access_denied``.
        :param max_age: ask for a sign-in at most this many seconds old, and require the ID
            token's ``auth_time`` to show one (OpenID Connect Core 3.1.2.1).
        """
        state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        sent_nonce = secrets.token_urlsafe(16) if nonce else None
        challenge = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
        parts = urlsplit(self.metadata["authorization_endpoint"])
        browser = _Browser(self.send, f"{parts.scheme}://{parts.netloc}", headers, cookies)
        url = self.authorization_url(state=state, challenge=challenge, nonce=sent_nonce, prompt=prompt,
                                     max_age=max_age)
        code = self._code(self._callback(browser, url, login, consent), state)
        tokens = self._redeem(code, verifier)
        claims, header = self.verify_id_token(tokens["id_token"], nonce=sent_nonce,
                                              access_token=tokens["access_token"])
        if max_age is not None:
            self._fresh(claims, max_age)
        info = self._userinfo(tokens["access_token"], claims["sub"])
        return OpenIDLogin(claims, info, header, str(tokens.get("scope", "")), tokens)

    def __repr__(self) -> str:
        return f"RelyingParty({self.client_id!r}, issuer={self.issuer!r})"



def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

__all__ = ["Answer", "OpenIDLogin", "RelyingParty", "RelyingPartyRefused", "half_hash"]
