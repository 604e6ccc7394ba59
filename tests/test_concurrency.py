"""The verifier under concurrency (issue 22): the WSGI verifier on a real threaded server with 8
client threads, the ASGI verifier with every request in flight at once, the JWKS receiver's lock.

Every forged token has a header of its own, so nearly every request parses a header segment the
cache has not seen and evicts one (anyone can force this); valid logins, replays of one token
racing each other, and session cookies (valid and forged) come in between. No answer may be a 500,
and each is the answer the same request gets when the requests are made one at a time (a token
presented twice at once: one sign-in, one ``token_replayed``, in either order).
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from helpers import KEY, Clock, asgi_echo, wsgi_echo
from servers import werkzeug_server

from sso_middleware import asgi, wsgi
from sso_middleware.jwks import RemoteKeys
from sso_middleware.keys import Key
from sso_middleware.principal import Principal
from sso_middleware.session import Sessions
from sso_middleware.tokens import b64encode, sign

NOW = 1_800_000_000
THREADS = 8
ROUNDS = 8
"""Each round is one of every kind of request below, for every thread: 8 * 8 * 8 = 512 requests."""
PAIR = Key.generate("ES256", kid="es-1")
SESSION_KEY = "concurrency-session-key-0123456789abcdef"
JWKS = json.dumps({"keys": [PAIR.public_jwk()]}).encode()


@dataclass(frozen=True)
class Call:
    """One request: a path with its query, maybe a session cookie, and the group whose answers
    are compared as a whole (the two uses of one token)."""

    target: str
    cookie: str | None
    group: int


def _forged(header: dict[str, Any], size: int = 32) -> str:
    """A token with this header and a signature of ``size`` bytes that no key made."""
    segment = b64encode(json.dumps(header, separators=(",", ":")).encode())
    claims = b64encode(b'{"sub":"eve","exp":1900000000}')
    return f"{segment}.{claims}.{b64encode(bytes([23]) * size)}"


def corpus(key: Key, session_key: Key, rounds: int = ROUNDS) -> list[Call]:
    """The requests of one run, in order; replayed tokens' two uses sit next to each other, so the
    round-robin split hands them to different threads."""
    sessions = Sessions(session_key)
    calls: list[Call] = []
    signature_size = 64 if key.algorithm == "ES256" else 32
    for n in range(rounds * THREADS):
        # a forged token whose header no one sent before: parsed, cached, and one evicted
        calls.append(
            Call(
                f"/sso?token={_forged({'alg': key.algorithm, 'typ': 'JWT', 'n': n}, signature_size)}",
                None,
                len(calls),
            )
        )
        # a header whose alg is no string (a malformed token, refused cleanly)
        calls.append(
            Call(f"/sso?token={_forged({'alg': [key.algorithm], 'n': n}, signature_size)}", None, len(calls))
        )
        # a kid nobody holds
        calls.append(
            Call(
                f"/sso?token={_forged({'alg': key.algorithm, 'kid': f'k{n}'}, signature_size)}",
                None,
                len(calls),
            )
        )
        # a good login, its header of its own too
        good = sign(
            {"sub": f"user{n}", "iat": NOW, "exp": NOW + 60, "jti": f"j{n}"}, key, header={"n": str(n)}
        )
        calls.append(Call(f"/sso?token={good}", None, len(calls)))
        # one token presented twice at once: exactly one sign-in
        twice = sign(
            {"sub": f"twin{n}", "iat": NOW, "exp": NOW + 60, "jti": f"t{n}"}, key, header={"m": str(n)}
        )
        group = len(calls)
        calls += [Call(f"/sso?token={twice}", None, group), Call(f"/sso?token={twice}", None, group)]
        # a page with a session of its own (a session-cache entry each), then one with a forged one
        opened = sessions.open(Principal(f"s{n}", None, None), "sso", NOW, False)
        calls.append(Call(f"/page/{n}", opened.split(";", 1)[0].split("=", 1)[1], len(calls)))
        calls.append(
            Call(
                f"/page/{n}",
                _forged({"alg": session_key.algorithm, "typ": "sso-session", "n": n}),
                len(calls),
            )
        )
    return calls


def fingerprint(status: int, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
    """What must not differ between a sequential and a concurrent run."""
    cookie = headers.get("set-cookie", "")
    opened = (
        "session"
        if cookie.startswith("sso_session=") and "Max-Age=0" not in cookie
        else ("cleared" if cookie else "none")
    )
    if status == 200:
        return status, json.loads(body)["user"], opened
    if status == 303:
        return status, headers.get("location"), opened
    return status, json.loads(body).get("error"), opened


# -- the apps -----------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A verifier to run against, and how many times it fetched its JWKS."""

    app: Any
    fetches: list[int]


def build(skin: str, kind: str) -> Receiver:
    module = wsgi if skin == "wsgi" else asgi
    echo = wsgi_echo if skin == "wsgi" else asgi_echo
    fetches: list[int] = []
    if kind == "secret":
        return Receiver(module.VerifierMiddleware(echo, key=KEY, clock=Clock(NOW)), fetches)

    lock = threading.Lock()

    def fetch(url: str, timeout: float) -> bytes:
        with lock:
            fetches.append(1)
        return JWKS

    remote = RemoteKeys("https://app.acme.com/sso/.well-known/jwks.json", fetch=fetch)
    return Receiver(
        module.VerifierMiddleware(echo, jwks_url=remote, session_key=SESSION_KEY, clock=Clock(NOW)), fetches
    )


def keys(kind: str) -> tuple[Key, Key]:
    """The login key and the session key of a receiver of this kind."""
    if kind == "secret":
        return Key(KEY), Key(Key(KEY).derive("session"))
    return PAIR, Key(SESSION_KEY)


KINDS = [pytest.param("secret", id="hmac-secret"), pytest.param("jwks", id="jwks-url")]


def check_same(
    calls: list[Call],
    sequential: dict[int, tuple[Any, ...]],
    concurrent: dict[int, tuple[Any, ...]],
    rounds: int = ROUNDS,
) -> None:
    assert len(concurrent) == len(sequential) == len(calls)
    assert not [a for a in concurrent.values() if a[0] >= 500], Counter(
        a for a in concurrent.values() if a[0] >= 500
    )
    groups: dict[int, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(call.group, []).append(index)
    for members in groups.values():
        assert sorted(concurrent[i] for i in members) == sorted(sequential[i] for i in members), [
            calls[i].target[:60] for i in members
        ]
    # the corpus is what it says: each kind of answer is there
    kinds = Counter(answer[:2] for answer in sequential.values())
    assert kinds[(401, "token_bad_signature")] and kinds[(401, "token_replayed")] == rounds * THREADS
    assert sum(1 for a in sequential.values() if a[0] == 303) == 2 * rounds * THREADS
    assert sum(1 for a in sequential.values() if a[0] == 200 and a[1] is not None) == rounds * THREADS
    assert sum(1 for a in sequential.values() if a == (200, None, "cleared")) == rounds * THREADS


# -- WSGI: a real threaded server, 8 client threads ---------------------------------------------


def http_get(base: tuple[str, int], call: Call) -> tuple[Any, ...]:
    connection = http.client.HTTPConnection(*base, timeout=30)
    try:
        headers = {"Accept": "application/json"}
        if call.cookie is not None:
            headers["Cookie"] = f"sso_session={call.cookie}"
        connection.request("GET", call.target, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return fingerprint(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


@contextmanager
def served(app: Any) -> Iterator[tuple[str, int]]:
    with werkzeug_server(app) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def run_threads(base: tuple[str, int], calls: list[Call]) -> dict[int, tuple[Any, ...]]:
    """Every call, split round-robin over 8 threads that start together."""
    answers: dict[int, tuple[Any, ...]] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(offset: int) -> None:
        try:
            start.wait(timeout=30)
            for index in range(offset, len(calls), THREADS):
                answers[index] = http_get(base, calls[index])
        except BaseException as e:  # reported by the test, not lost in a thread
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.network
def test_wsgi_verifier_on_a_threaded_server(kind: str) -> None:
    calls = corpus(*keys(kind))
    one_by_one = build("wsgi", kind)
    with served(one_by_one.app) as base:
        sequential = {index: http_get(base, call) for index, call in enumerate(calls)}
    together = build("wsgi", kind)
    with served(together.app) as base:
        concurrent = run_threads(base, calls)
    check_same(calls, sequential, concurrent)
    if kind == "jwks":  # fetched once: forged kids wait for refresh_every, also when they race
        assert len(one_by_one.fetches) == len(together.fetches) == 1


def test_wsgi_verifier_called_from_8_threads_at_once() -> None:
    """No server in between: many more requests per second, and a short switch interval, so the
    threads interleave inside the caches far more often than on a socket."""
    import sys

    rounds = 4 * ROUNDS
    calls = corpus(*keys("secret"), rounds=rounds)

    def environ(call: Call) -> dict[str, Any]:
        path, _, query = call.target.partition("?")
        found = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "HTTP_ACCEPT": "application/json",
        }
        if call.cookie is not None:
            found["HTTP_COOKIE"] = f"sso_session={call.cookie}"
        return found

    def ask(app: Any, call: Call) -> tuple[Any, ...]:
        started: list[Any] = []
        body = b"".join(
            app(environ(call), lambda status, headers, exc=None: started.append((status, headers)))
        )
        status, headers = started[0]
        return fingerprint(int(status.split()[0]), {k.lower(): v for k, v in headers}, body)

    reference = build("wsgi", "secret").app
    sequential = {index: ask(reference, call) for index, call in enumerate(calls)}
    app = build("wsgi", "secret").app
    answers: dict[int, tuple[Any, ...]] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(offset: int) -> None:
        try:
            start.wait(timeout=30)
            for index in range(offset, len(calls), THREADS):
                answers[index] = ask(app, calls[index])
        except BaseException as e:
            failures.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not failures, failures[:3]
    check_same(calls, sequential, answers, rounds)


# -- ASGI: every request in flight at once --------------------------------------------------------


async def asgi_get(app: Any, call: Call) -> tuple[Any, ...]:
    headers = {"Accept": "application/json"}
    if call.cookie is not None:
        headers["Cookie"] = f"sso_session={call.cookie}"
    # a client per request: no cookie jar carries one answer's cookie into another request
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        response = await client.get(call.target, headers=headers)
    return fingerprint(
        response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
    )


@pytest.mark.parametrize("kind", KINDS)
def test_asgi_verifier_under_concurrent_requests(kind: str) -> None:
    calls = corpus(*keys(kind))
    one_by_one = build("asgi", kind)
    together = build("asgi", kind)

    async def run() -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
        sequential = {index: await asgi_get(one_by_one.app, call) for index, call in enumerate(calls)}
        answers = await asyncio.gather(*(asgi_get(together.app, call) for call in calls))
        return sequential, dict(enumerate(answers))

    sequential, concurrent = asyncio.run(run())
    check_same(calls, sequential, concurrent)
    if kind == "jwks":  # one fetch, in a worker thread, while the other requests wait for it
        assert len(one_by_one.fetches) == len(together.fetches) == 1
