"""One-time tokens: remember each accepted token's id until it expires.

The flow calls :meth:`ReplayStore.claim` once per verified token, before any
session is opened; ``True`` means "first time, go on". It must be atomic: of
many concurrent presentations of one token, exactly one gets ``True``.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import threading
from typing import Any, Protocol, runtime_checkable

from .errors import ConfigurationError, ReplayStoreFull


@runtime_checkable
class ReplayStore(Protocol):
    """Where one-time token ids are kept.

    ``blocking`` tells an ASGI server to call ``claim`` off the event loop
    (network stores such as Redis).
    """

    blocking: bool

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        """Atomically record ``key`` until ``expires_at``; ``False`` if it was already there."""
        ...


def _digest(key: str) -> bytes:
    # A fixed 16-byte digest bounds an entry's size whatever the token's jti is.
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


class MemoryReplayStore:
    """A thread-safe, bounded in-memory store for one process.

    Entries leave when their token expires. When ``max_entries`` live entries
    are held, new logins are refused with a 503 (:class:`ReplayStoreFull`)
    until some expire: a full store never starts accepting replays. Use
    :class:`RedisReplayStore` when several processes or hosts verify.

    >>> store = MemoryReplayStore(max_entries=10)
    >>> store.claim("frill|jti-1", expires_at=200.0, now=100.0)
    True
    >>> store.claim("frill|jti-1", expires_at=200.0, now=150.0)
    False
    """

    blocking = False

    def __init__(self, *, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive whole number.")
        self.max_entries = max_entries
        self._expiry: dict[bytes, float] = {}
        self._queue: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        digest = _digest(key)
        with self._lock:
            self._evict(now)
            if digest in self._expiry:
                return False
            if len(self._expiry) >= self.max_entries:
                raise ReplayStoreFull()
            self._expiry[digest] = expires_at
            heapq.heappush(self._queue, (expires_at, digest))
            return True

    def _evict(self, now: float) -> None:
        queue, expiry = self._queue, self._expiry
        while queue and queue[0][0] < now:
            _, digest = heapq.heappop(queue)
            expiry.pop(digest, None)

    def __len__(self) -> int:
        return len(self._expiry)


class RedisReplayStore:
    """One-time ids in Redis (``SET key 1 NX EXAT exp``), shared by every process and host.

    Any Redis error refuses the login (fail closed), so give the client a short
    ``socket_timeout``: a login waits for Redis at most that long (times its retries).

    Usage::

        import redis
        store = RedisReplayStore(redis.Redis(host="redis", socket_timeout=0.5))
        app = VerifierMiddleware(app, key=KEY, replay_store=store)
    """

    blocking = True

    def __init__(self, client: Any, *, prefix: str = "sso_middleware:jti:") -> None:
        if not hasattr(client, "set"):
            raise ConfigurationError("client must be a redis.Redis (or compatible) instance.")
        self.client = client
        self.prefix = prefix

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        name = self.prefix + _digest(key).hex()
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        return bool(self.client.set(name, b"1", nx=True, px=ttl_ms))


__all__ = [
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
]
