"""JSON Web Key Sets: the one an issuer publishes, and the one a verifier fetches.

An issuer holding key pairs serves their public halves at
``{prefix}/.well-known/jwks.json`` (:func:`published`). A verifier given a
``jwks_url`` reads its keys from there (:class:`RemoteKeys`): cached, fetched
again when the cache is old or a token names a ``kid`` it does not hold (at
most once per ``refresh_every`` seconds, so forged ``kid``\\ s cannot make it
fetch on every request), each fetch bounded in time and size. When the keys
cannot be fetched and none it holds matches the token, the sign-in is refused
with a 503 (``keys_unavailable``): it fails closed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import ConfigurationError
from .keys import Key, KeySet
from .messages import Reply, public_json
from .redirects import host_key

logger = logging.getLogger("sso_middleware")

JWKS_PATH = "/.well-known/jwks.json"
"""Where an issuer publishes its public keys, below its prefix."""
JWKS_MAX_AGE = 300
"""How long clients may cache the published set (seconds): shorter than any rotation overlap."""
MAX_JWKS_BYTES = 64 * 1024
MAX_JWKS_KEYS = 32

Fetch = Callable[[str, float], bytes]
"""``fetch(url, timeout) -> body``: how :class:`RemoteKeys` reads its URL (tests pass their own)."""


def published(keysets: Iterable[KeySet]) -> Reply | None:
    """The reply for ``{prefix}/.well-known/jwks.json``: every key pair's public half; ``None``
    when there is none (HMAC secrets are never published). The same ``kid`` for two different
    keys is a :class:`ConfigurationError`.
    """
    found: dict[str, dict[str, Any]] = {}
    for keys in keysets:
        for key in keys.published:
            jwk = key.public_jwk()
            kid = str(jwk["kid"])
            if found.get(kid, jwk) != jwk:
                raise ConfigurationError(
                    f"two different keys are published with kid {kid!r}; give each its own kid "
                    "(or leave kid out: it is then the key's thumbprint)."
                )
            found[kid] = jwk
    if not found:
        return None
    return public_json({"keys": list(found.values())}, JWKS_MAX_AGE)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a JWKS URL that moves is a configuration to update, not to follow


class _Deadline:
    """A watchdog over one fetch: when time is up, it shuts every socket the fetch opened, so
    whatever read is waiting (status line, headers, chunk sizes, body) returns at once.

    A per-read timeout alone cannot bound a fetch: a server that drips one byte per read never
    lets one time out. The lock guards two lists for an instant, never the network.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watched(self, base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        """``base``, whose connections this deadline can shut once they are open."""
        deadline = self

        class Watched(base):  # type: ignore[valid-type, misc]
            def connect(self) -> None:
                super().connect()
                deadline._opened(self)

        return Watched

    def _opened(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            late = self.expired
        if late:  # the time ran out while it connected: shut it before any read
            _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: http.client.HTTPConnection) -> None:
    if connection.sock is not None:
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        return super().do_open(self.deadline.watched(http_class), req, **kwargs)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        return super().do_open(self.deadline.watched(http_class), req, **kwargs)


def fetch_url(url: str, timeout: float) -> bytes:
    """GET ``url``: at most 64 KiB, no redirects, and ``timeout`` seconds **in all** (connect,
    status line, headers and body: a watchdog shuts the socket when the time is up, so a server
    that drips bytes cannot hold it open). Proxies from the environment are used as urllib uses
    them. Name resolution is the system resolver's, bounded by its own timeouts."""
    if not url.startswith(("https://", "http://")):  # (RemoteKeys checked it; a fetch= caller may not)
        raise ValueError("a JWKS URL is http(s)")
    headers = {"Accept": "application/json", "User-Agent": "sso-middleware"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the scheme is checked above
    with _Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_NoRedirects(), _HTTP(deadline), _HTTPS(deadline))
        try:
            with opener.open(request, timeout=timeout) as response:
                if response.status != 200:
                    raise OSError(f"HTTP {response.status}")
                body = b""
                while chunk := response.read1(16384):  # one socket read at most, never waits to fill
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError("the JWKS is larger than 64 KiB")
        except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
            if deadline.expired:
                raise TimeoutError(f"the JWKS took longer than {timeout:g} s in all") from e
            raise
        if deadline.expired:  # a shut socket can also read as a (short) end of the body
            raise TimeoutError(f"the JWKS took longer than {timeout:g} s in all")
        return body


def parse(data: bytes, algorithms: frozenset[str] | None = None) -> tuple[KeySet, list[str]]:
    """The usable public keys of a JWKS document, and why each other key was skipped."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as e:  # (nesting deeper than the parser goes)
        raise ValueError("the JWKS is not JSON") from e
    listed = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise ValueError("the JWKS has no 'keys' list")
    keys: list[Key] = []
    skipped: list[str] = []
    for number, jwk in enumerate(listed[:MAX_JWKS_KEYS]):
        found = _usable(jwk, f"key {number}", algorithms, keys)
        if isinstance(found, Key):
            keys.append(found)
        else:
            skipped.append(found)
    if not keys:
        raise ValueError("the JWKS holds no usable key" + (f" ({'; '.join(skipped)})" if skipped else ""))
    return KeySet(keys), skipped


def _usable(jwk: object, where: str, algorithms: frozenset[str] | None, taken: list[Key]) -> Key | str:
    """The key a JWKS member describes, or why it is skipped."""
    if not isinstance(jwk, Mapping):
        return f"{where}: not an object"
    if jwk.get("use", "sig") != "sig" or jwk.get("kty") == "oct":
        return f"{where}: not a public signing key"
    if "d" in jwk:
        return f"{where}: it holds a PRIVATE key, which a JWKS must never publish"
    try:
        key = Key(jwk, field=where)
    except ConfigurationError as e:
        return e.message
    if algorithms is not None and algorithms.isdisjoint(key.accepts):
        return f"{where}: {key.algorithm} is not an allowed algorithm"
    if key.kid is not None and any(k.kid == key.kid for k in taken):
        return f"{where}: kid {key.kid!r} again"
    return key


class RemoteKeys:
    """The keys published at a JWKS URL, as a verifier uses them.

    :param url: the JWKS URL (https; http only for loopback hosts).
    :param cache_for: seconds a fetched set is used before it is fetched again.
    :param refresh_every: the shortest time between two fetches (a token naming an unknown
        ``kid`` triggers one only when this long has passed since the last).
    :param timeout: seconds a fetch may take in all.
    :param algorithms: only keys for these algorithms are taken (default: each key's own).
    :param fetch: ``fetch(url, timeout) -> bytes``, for tests or an app's own HTTP client.

    >>> RemoteKeys("https://app.acme.com/sso/.well-known/jwks.json").keys is None
    True
    """

    def __init__(
        self,
        url: str,
        *,
        cache_for: float = 300.0,
        refresh_every: float = 30.0,
        timeout: float = 3.0,
        algorithms: Iterable[str] | None = None,
        fetch: Fetch | None = None,
    ) -> None:
        from .tokens import check_seconds

        if not isinstance(url, str) or host_key(url) is None:
            raise ConfigurationError(
                f"jwks_url {url!r} must be an absolute https URL (http only for localhost) with no "
                "credentials."
            )
        check_seconds(cache_for, "jwks cache_for")
        check_seconds(refresh_every, "jwks refresh_every", zero_ok=True, maximum=cache_for)
        check_seconds(timeout, "jwks timeout", maximum=30)
        self.url = url
        self.cache_for = cache_for
        self.refresh_every = refresh_every
        self.timeout = timeout
        self.algorithms = frozenset(algorithms) if algorithms is not None else None
        self._fetch = fetch or fetch_url
        self._lock = threading.Lock()
        self._pending: threading.Event | None = None
        self.keys: KeySet | None = None
        """The keys of the last good fetch (``None`` before one)."""
        self.fetched: float | None = None
        self._attempted: float | None = None
        self.failed = False
        """Whether the last fetch failed (the keys, if any, are older ones)."""

    def due(self, kid: object, now: float) -> bool:
        """Whether a fetch should be made before checking a token that names ``kid``."""
        if self._attempted is not None and now - self._attempted < self.refresh_every:
            return False
        if self.keys is None or self.fetched is None or now - self.fetched >= self.cache_for:
            return True
        return kid is not None and not self.keys.candidates(kid)

    def refresh(self, kid: object, now: float) -> None:
        """Fetch the set again if it is still :meth:`due`. One thread fetches; the lock is held
        only to decide which, never across the network. A thread that finds a fetch under way
        waits for it at most ``timeout`` seconds (the fetch ends by then). A failure is logged
        and keeps the keys held."""
        with self._lock:
            pending, mine = self._pending, False
            if pending is None:
                if not self.due(kid, now):
                    return  # another request fetched it meanwhile
                self._attempted, mine = now, True
                pending = self._pending = threading.Event()
        if not mine:
            pending.wait(self.timeout)
            return
        try:
            self._fetch_now(now)
        finally:
            with self._lock:
                self._pending = None
            pending.set()

    def _fetch_now(self, now: float) -> None:
        try:
            keys, skipped = parse(self._fetch(self.url, self.timeout), self.algorithms)
        except Exception as e:  # any failure: keep what we have, fail closed without it
            self.failed = True
            logger.warning("could not fetch the JWKS at %s: %s: %s", self.url, type(e).__name__, e)
            return
        for reason in skipped:
            logger.warning("JWKS at %s: skipped %s", self.url, reason)
        self.keys, self.fetched, self.failed = keys, now, False
        logger.info("fetched the JWKS at %s (%d keys)", self.url, len(keys.keys))

    async def arefresh(self, kid: object, now: float) -> None:
        """:meth:`refresh` in a worker thread, so the event loop never waits on the network."""
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.refresh, kid, now)

    def __repr__(self) -> str:
        return f"RemoteKeys({self.url!r})"


__all__ = ["JWKS_MAX_AGE", "JWKS_PATH", "Fetch", "RemoteKeys", "fetch_url", "parse", "published"]
