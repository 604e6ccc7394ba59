"""State the verifier shares between requests: one-time token ids and revoked sessions.

The flow calls :meth:`ReplayStore.claim` once per verified token, before any
session is opened; ``True`` means "first time, go on". It must be atomic: of
many concurrent presentations of one token, exactly one gets ``True``. Logout
calls :meth:`~ReplayStore.revoke`, and every request that carries a session asks
:meth:`~ReplayStore.revoked`. The WSGI skin calls the plain methods, the ASGI
skin the ``a``-prefixed coroutines, so a store may use a sync or an asyncio client.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
import sys
import threading
import warnings
import weakref
from typing import Protocol, TypeVar, runtime_checkable

from .errors import ConfigurationError, ReplayStoreFull

T = TypeVar("T")
NEVER = -math.inf
"""What :meth:`ReplayStore.revoked` answers for a session nobody revoked."""
EVICT_BATCH = 64
"""Expired entries a call removes at most: a mass expiry is spread over many requests."""
_SHARDS = 64
_SHARD_MASK = _SHARDS - 1
FULL_BATCH = 1024
"""Expired entries a call may remove to make room in a full store before refusing."""


@runtime_checkable
class ReplayStore(Protocol):
    """Where one-time token ids and revoked sessions are kept.

    ``asynchronous`` is true when only the coroutines work (an asyncio client):
    such a store serves the ASGI skin only.
    """

    asynchronous: bool

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        """Atomically record ``key`` until ``expires_at``; ``False`` if it was already there."""
        ...

    def revoke(self, user: str, session: str | None, before: float, expires_at: float, now: float) -> None:
        """Refuse ``user``'s sessions opened at or before ``before`` until ``expires_at``:
        one session (``session``, its id) or, with ``None``, all of them."""
        ...

    def revoked(self, user: str, session: str, now: float) -> float:
        """The latest ``before`` revoked for this session or its user, or :data:`NEVER`."""
        ...

    async def aclaim(self, key: str, expires_at: float, now: float) -> bool: ...

    async def arevoke(
        self, user: str, session: str | None, before: float, expires_at: float, now: float
    ) -> None: ...

    async def arevoked(self, user: str, session: str, now: float) -> float: ...

    # Optional, read-only: ``used(key, now) -> bool`` and ``aused``, whether ``key`` is claimed
    # and unexpired (a confirm page refuses a used link before the person presses its button).


class SharedStateWarning(RuntimeWarning):
    """A per-process store is used where several processes answer the same users."""


def digest(key: str) -> bytes:
    """A fixed 16-byte name for ``key``: an entry's size is bounded whatever the token's jti is."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_SERVERS = ("uvicorn", "gunicorn", "hypercorn", "granian")


def several_workers(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> str | None:
    """Why this process looks like one of several server workers, or ``None``.

    Servers pass the worker count on the command line (``--workers 4``, ``-w 4``)
    or in ``WEB_CONCURRENCY``; spawned and forked workers keep the parent's ``argv``.

    >>> several_workers(["/venv/bin/uvicorn", "app:app", "--workers", "4"], {})
    'the server runs 4 workers (--workers 4)'
    >>> several_workers(["/venv/bin/uvicorn", "app:app", "--reload"], {}) is None
    True
    """
    argv = sys.argv if argv is None else argv
    environ = dict(os.environ) if environ is None else environ
    concurrency = environ.get("WEB_CONCURRENCY", "")
    if concurrency.isdecimal() and int(concurrency) > 1:  # (what int() reads, as the servers do)
        return f"WEB_CONCURRENCY={concurrency}"
    if not argv or not any(server in argv[0] for server in _SERVERS):
        return None
    args = [*argv[1:], *environ.get("GUNICORN_CMD_ARGS", "").split()]
    for i in range(len(args)):
        found = _workers_at(args, i)
        if found is not None:
            return found
    return None


def _workers_at(args: list[str], i: int) -> str | None:
    """Why ``args[i]`` asks for several workers, or ``None``: ``--workers 4``, ``--workers=4``,
    ``-w 4``, ``-w4``."""
    name, _, value = args[i].partition("=")
    if name in ("--workers", "-w") and not value and i + 1 < len(args):
        value = args[i + 1]
    elif name.startswith("-w") and name[2:].isdecimal():
        value = name[2:]
    elif name not in ("--workers", "-w"):
        return None
    if value.isdecimal() and int(value) > 1:
        return f"the server runs {value} workers ({name} {value})"
    return None


_STORES: weakref.WeakSet[MemoryReplayStore] = weakref.WeakSet()


def _after_fork() -> None:
    for store in _STORES:
        store._forked = True


if hasattr(os, "register_at_fork"):  # POSIX: told once at the fork, not asked at every claim
    os.register_at_fork(after_in_child=_after_fork)


class MemoryReplayStore:
    """A thread-safe, bounded in-memory store: one-time **per process**.

    Entries leave when their token (or revoked session) expires. When
    ``max_entries`` live entries are held, new logins are refused with a 503
    (:class:`ReplayStoreFull`) until some expire: a full store never starts
    accepting replays. Each process has its own memory, so under several
    workers a token logs in once per worker and a logout holds in one worker:
    the store warns (:class:`SharedStateWarning`) when it can tell. Use
    :class:`RedisReplayStore` when several processes or hosts verify.

    >>> store = MemoryReplayStore(max_entries=10)
    >>> store.claim("frill|jti-1", expires_at=200.0, now=100.0)
    True
    >>> store.claim("frill|jti-1", expires_at=200.0, now=150.0)
    False
    """

    asynchronous = False

    def __init__(self, *, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive whole number.")
        self.max_entries = max_entries
        # one-time ids by their hash (64 bits, keyed per process: a fixed, small entry whatever the
        # jti), and when each expires; their expiries in buckets of one second, oldest first
        # (sharded: CPython rebuilds a dict that saw many deletions in one go, and a rebuild of a
        # 64th of a million-entry table is a fraction of a millisecond, not tens)
        self._expiry: list[dict[int, float]] = [{} for _ in range(_SHARDS)]
        self._held = 0  # entries across the shards
        self._buckets: dict[int, list[int]] = {}
        self._seconds: list[int] = []
        self._revoked: dict[tuple[str, str], tuple[float, float]] = {}  # -> (before, expires_at)
        self._revoked_queue: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()
        self._forked = False
        _STORES.add(self)
        reason = several_workers()
        if reason is not None:
            self._warn(reason)

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        if self._forked:
            self._forked = False
            self._warn("it was created before the process forked")
        name = hash(key)
        with self._lock:
            if self._seconds and self._seconds[0] + 1 <= now:  # anything to evict? (a cheap look)
                self._evict(now, EVICT_BATCH)
            shard = self._expiry[name & _SHARD_MASK]
            held = shard.get(name)
            if held is not None and held >= now:  # an expired one may not be evicted yet
                return False
            if held is None:
                if self._held + len(self._revoked) >= self.max_entries:  # (checked here: a call less)
                    self._room(now)
                self._held += 1
            shard[name] = expires_at
            second = int(expires_at)
            bucket = self._buckets.get(second)
            if bucket is None:
                bucket = self._buckets[second] = []
                heapq.heappush(self._seconds, second)
            bucket.append(name)
            return True

    def revoke(self, user: str, session: str | None, before: float, expires_at: float, now: float) -> None:
        entry = (user, session or "")
        with self._lock:
            self._evict(now, EVICT_BATCH)
            old = self._revoked.get(entry)
            if old is None:
                self._room(now)
            else:
                before, expires_at = max(before, old[0]), max(expires_at, old[1])
            self._revoked[entry] = (before, expires_at)
            heapq.heappush(self._revoked_queue, (expires_at, entry))

    def revoked(self, user: str, session: str, now: float) -> float:
        if not self._revoked:  # the common case: an authenticated request costs nothing more
            return NEVER
        latest = NEVER
        for entry in ((user, ""), (user, session)):
            found = self._revoked.get(entry)
            if found is not None and found[1] >= now:
                latest = max(latest, found[0])
        return latest

    def used(self, key: str, now: float) -> bool:
        """Whether ``key`` was claimed and has not expired, without writing (a confirm page
        asks before the person confirms)."""
        name = hash(key)
        held = self._expiry[name & _SHARD_MASK].get(name)
        return held is not None and held >= now

    async def aclaim(self, key: str, expires_at: float, now: float) -> bool:
        return self.claim(key, expires_at, now)

    async def aused(self, key: str, now: float) -> bool:
        return self.used(key, now)

    async def arevoke(
        self, user: str, session: str | None, before: float, expires_at: float, now: float
    ) -> None:
        self.revoke(user, session, before, expires_at, now)

    async def arevoked(self, user: str, session: str, now: float) -> float:
        return self.revoked(user, session, now)

    def _room(self, now: float) -> None:
        if self._held + len(self._revoked) < self.max_entries:
            return
        self._evict(now, FULL_BATCH)  # expired entries go first, a bounded batch at a time
        seconds = self._seconds
        if self._held + len(self._revoked) >= self.max_entries and seconds and seconds[0] <= now:
            # still full, and the oldest second is partly over: its expired entries go too
            bucket = self._buckets[seconds[0]]
            bucket.extend(self._drop_expired(bucket, now, FULL_BATCH))
        if self._held + len(self._revoked) >= self.max_entries:
            raise ReplayStoreFull()

    def _drop_expired(self, bucket: list[int], now: float, most: int) -> list[int]:
        """Take up to ``most`` ids off ``bucket``, forget the expired ones; the live ones taken."""
        live = []
        for _ in range(min(len(bucket), most)):
            name = bucket.pop()
            shard = self._expiry[name & _SHARD_MASK]
            if shard.get(name, math.inf) < now:
                del shard[name]
                self._held -= 1
            else:
                live.append(name)
        return live

    def _evict(self, now: float, most: int) -> None:
        """Remove up to ``most`` expired entries of each kind, oldest first."""
        seconds, buckets = self._seconds, self._buckets
        left = most
        while left and seconds and seconds[0] + 1 <= now:  # every entry in that second has expired
            bucket = buckets[seconds[0]]
            take = min(left, len(bucket))
            self._drop_expired(bucket, now, take)  # a live one was claimed again: it is in a later second
            left -= take
            if not bucket:
                del buckets[heapq.heappop(seconds)]
        revoked_queue, revoked = self._revoked_queue, self._revoked
        left = most
        while left and revoked_queue and revoked_queue[0][0] < now:
            _, entry = heapq.heappop(revoked_queue)
            found = revoked.get(entry)
            if found is not None and found[1] < now:  # a later revoke may have extended it
                del revoked[entry]
            left -= 1

    def _warn(self, reason: str) -> None:
        warnings.warn(
            f"MemoryReplayStore is one-time per process, and {reason}: each process would accept "
            "every token once and honour a logout alone. Pass "
            "replay_store=RedisReplayStore(redis.Redis(...)) to share them.",
            SharedStateWarning,
            stacklevel=3,
        )

    def __len__(self) -> int:
        return self._held + len(self._revoked)


__all__ = [
    "NEVER",
    "MemoryReplayStore",
    "ReplayStore",
    "SharedStateWarning",
    "digest",
    "several_workers",
]
