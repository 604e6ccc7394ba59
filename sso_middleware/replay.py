"""State the verifier shares between requests: one-time token ids and revoked sessions.

The flow calls :meth:`ReplayStore.claim` once per verified token, before any
session is opened; ``True`` means "first time, go on". It must be atomic: of
many concurrent presentations of one token, exactly one gets ``True``. Logout
calls :meth:`~ReplayStore.revoke`, and every request that carries a session asks
:meth:`~ReplayStore.revoked`. The WSGI skin calls the plain methods, the ASGI
skin the ``a``-prefixed coroutines, so a store may use a sync or an asyncio client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import inspect
import math
import os
import queue
import secrets
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from .errors import ConfigurationError, ReplayStoreFull, ReplayStoreUnavailable
from .steps import Steps, adrive, drive
from .tokens import check_seconds

T = TypeVar("T")
NEVER = -math.inf
"""What :meth:`ReplayStore.revoked` answers for a session nobody revoked."""


@runtime_checkable
class ReplayStore(Protocol):
    """Where one-time token ids and revoked sessions are kept.

    ``asynchronous`` is true when only the coroutines work (an asyncio client):
    such a store serves the ASGI skin only. ``blocking`` tells the ASGI skin a
    plain call would block its event loop (a network store).
    """

    asynchronous: bool
    blocking: bool

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


class SharedStateWarning(RuntimeWarning):
    """A per-process store is used where several processes answer the same users."""


def _digest(key: str) -> bytes:
    # A fixed 16-byte digest bounds an entry's size whatever the token's jti is.
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
    if concurrency.isdigit() and int(concurrency) > 1:
        return f"WEB_CONCURRENCY={concurrency}"
    if not argv or not any(server in argv[0] for server in _SERVERS):
        return None
    args = [*argv[1:], *environ.get("GUNICORN_CMD_ARGS", "").split()]
    for i, arg in enumerate(args):
        name, _, value = arg.partition("=")
        if name in ("--workers", "-w") and not value and i + 1 < len(args):
            value = args[i + 1]
        elif name.startswith("-w") and name[2:].isdigit():
            value = name[2:]
        elif name not in ("--workers", "-w"):
            continue
        if value.isdigit() and int(value) > 1:
            return f"the server runs {value} workers ({name} {value})"
    return None


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
    blocking = False

    def __init__(self, *, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive whole number.")
        self.max_entries = max_entries
        self._expiry: dict[bytes, float] = {}
        self._queue: list[tuple[float, bytes]] = []
        self._revoked: dict[tuple[str, str], tuple[float, float]] = {}  # -> (before, expires_at)
        self._revoked_queue: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        reason = several_workers()
        if reason is not None:
            self._warn(reason)

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._warn("it was created before the process forked")
        digest = _digest(key)
        with self._lock:
            self._evict(now)
            if digest in self._expiry:
                return False
            self._room()
            self._expiry[digest] = expires_at
            heapq.heappush(self._queue, (expires_at, digest))
            return True

    def revoke(self, user: str, session: str | None, before: float, expires_at: float, now: float) -> None:
        entry = (user, session or "")
        with self._lock:
            self._evict(now)
            old = self._revoked.get(entry)
            if old is None:
                self._room()
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

    async def aclaim(self, key: str, expires_at: float, now: float) -> bool:
        return self.claim(key, expires_at, now)

    async def arevoke(
        self, user: str, session: str | None, before: float, expires_at: float, now: float
    ) -> None:
        self.revoke(user, session, before, expires_at, now)

    async def arevoked(self, user: str, session: str, now: float) -> float:
        return self.revoked(user, session, now)

    def _room(self) -> None:
        if len(self._expiry) + len(self._revoked) >= self.max_entries:
            raise ReplayStoreFull()

    def _evict(self, now: float) -> None:
        queue, expiry = self._queue, self._expiry
        while queue and queue[0][0] < now:
            _, digest = heapq.heappop(queue)
            expiry.pop(digest, None)
        revoked_queue, revoked = self._revoked_queue, self._revoked
        while revoked_queue and revoked_queue[0][0] < now:
            _, entry = heapq.heappop(revoked_queue)
            found = revoked.get(entry)
            if found is not None and found[1] < now:  # a later revoke may have extended it
                del revoked[entry]

    def _warn(self, reason: str) -> None:
        warnings.warn(
            f"MemoryReplayStore is one-time per process, and {reason}: each process would accept "
            "every token once and honour a logout alone. Pass "
            "replay_store=RedisReplayStore(redis.Redis(...)) to share them.",
            SharedStateWarning,
            stacklevel=3,
        )

    def __len__(self) -> int:
        return len(self._expiry) + len(self._revoked)


# -- Redis ------------------------------------------------------------------------

# Set once with this attempt's own value; a retry of the same attempt (the client's
# own retry after a timeout) finds that value and is still the first presentation.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""
# Undo one attempt's claim, and nobody else's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Keep the latest cut-off and the longest life of every revoke of one key.
_REVOKE = """
local value = ARGV[1]
local old = redis.call('GET', KEYS[1])
if old and tonumber(old) > tonumber(value) then value = old end
local ttl = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1]))
redis.call('SET', KEYS[1], value, 'PX', ttl)
return 1
"""


@dataclass(frozen=True, slots=True)
class _Call:
    """One round trip: a Lua script (or ``MGET`` without one), then ``WAIT`` for replicas."""

    script: str | None
    keys: tuple[str, ...]
    args: tuple[str | int, ...] = ()
    replicas: int = 0
    wait_ms: int = 0


Calls = Steps[_Call, T]
_MAX_PENDING = 10_000


class _Workers:
    """Daemon threads that run a sync client's calls, so a caller can stop waiting
    for a hung Redis (and a hung Redis never holds up the interpreter's exit)."""

    def __init__(self, size: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        for _ in range(size):
            threading.Thread(target=self._work, name="sso-middleware-redis", daemon=True).start()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job))
        return future

    def _work(self) -> None:
        while True:
            future, job = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue  # the caller stopped waiting before it started: nothing was sent
            try:
                future.set_result(job())
            except BaseException as e:
                future.set_exception(e)


class RedisReplayStore:
    """One-time ids and revoked sessions in Redis, shared by every process and host.

    Pass a ``redis.Redis`` (WSGI or ASGI), a ``redis.asyncio.Redis`` (ASGI, no
    thread per call), or a Sentinel or Cluster client of either kind. Every
    call answers within ``timeout`` seconds whatever the client's own retry
    settings; a login the store cannot answer in time is refused with a 503
    (fail closed) and does not burn the token: each claim carries a value of its
    own, so the client's retry of it is still the first presentation, and a
    claim whose outcome was unknown is undone once Redis answers again.

    ``replicas=N`` waits (``WAIT``) until N replicas hold each claim before the
    login is accepted, so a failover to a replica cannot resurrect a consumed
    token; fewer acknowledgements within ``timeout`` refuse the login (503).

    >>> import redis
    >>> store = RedisReplayStore(redis.Redis(host="redis", socket_timeout=0.5), timeout=0.5)
    >>> store.asynchronous
    False
    """

    blocking = True

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "sso_middleware:",
        timeout: float = 0.5,
        replicas: int = 0,
        threads: int = 8,
    ) -> None:
        if not hasattr(client, "eval") or not hasattr(client, "mget"):
            raise ConfigurationError("client must be a redis.Redis (or compatible) instance.")
        check_seconds(timeout, "timeout", maximum=30)
        for value, label in ((replicas, "replicas"), (threads, "threads")):
            if isinstance(value, bool) or not isinstance(value, int) or value < (label == "threads"):
                raise ConfigurationError(f"{label} must be a whole number (got {value!r}).")
        if replicas and hasattr(client, "get_node_from_key"):
            raise ConfigurationError(
                "replicas: WAIT must follow the write on its connection, which a Cluster client "
                "cannot promise; use a standalone or Sentinel client, or replicas=0."
            )
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError(f"prefix {prefix!r}: use a non-empty name without braces.")
        self.client = client
        self.prefix = prefix
        self.timeout = float(timeout)
        self.replicas = replicas
        self.asynchronous = inspect.iscoroutinefunction(client.execute_command)
        self._threads = threads
        self._workers: _Workers | None = None
        self._pid = os.getpid()
        self._pending: dict[str, tuple[str, float]] = {}  # claims whose outcome is unknown
        self._settling: asyncio.Task[None] | None = None

    # -- the interface --------------------------------------------------------------

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        name, value = self._claim_name(key), secrets.token_hex(8)
        undo = self._undoer(name, value, expires_at, now)
        return self._sync(self._claim(name, value, expires_at, now), undo)

    def revoke(self, user: str, session: str | None, before: float, expires_at: float, now: float) -> None:
        self._sync(self._revoke(user, session, before, expires_at, now))

    def revoked(self, user: str, session: str, now: float) -> float:
        return self._sync(self._revoked(user, session))

    async def aclaim(self, key: str, expires_at: float, now: float) -> bool:
        name, value = self._claim_name(key), secrets.token_hex(8)
        undo = self._undoer(name, value, expires_at, now)
        return await self._async(self._claim(name, value, expires_at, now), undo, now)

    async def arevoke(
        self, user: str, session: str | None, before: float, expires_at: float, now: float
    ) -> None:
        await self._async(self._revoke(user, session, before, expires_at, now))

    async def arevoked(self, user: str, session: str, now: float) -> float:
        return await self._async(self._revoked(user, session))

    # -- what each call does, whoever runs it -------------------------------------------

    def _claim_name(self, key: str) -> str:
        return f"{self.prefix}jti:{_digest(key).hex()}"

    def _revocation_names(self, user: str, session: str | None) -> tuple[str, str]:
        # one hash tag per user: both names live in one Cluster slot, so one MGET reads both
        tag = f"{self.prefix}revoked:{{{_digest(user).hex()}}}"
        return tag, f"{tag}:{_digest(session).hex()}" if session else tag

    def _claim(self, name: str, value: str, expires_at: float, now: float) -> Calls[bool]:
        yield from self._settle(now)
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        call = _Call(_CLAIM, (name,), (value, ttl_ms), self.replicas, self._wait_ms())
        try:
            answer = yield call
        except BaseException:
            self._remember(name, value, expires_at)  # it may have landed: undo it later
            raise
        first, acked = (answer[0], answer[1]) if self.replicas else (answer, 0)
        if first and acked < self.replicas:
            self._remember(name, value, expires_at)
            yield from self._settle(now)
            raise ReplayStoreUnavailable(detail=f"{acked} of {self.replicas} replicas acknowledged the claim")
        return bool(first)

    def _settle(self, now: float) -> Calls[None]:
        """Undo the claims whose outcome was unknown (the login was refused, the token stays good)."""
        for name, (value, expires_at) in list(self._pending.items()):
            if expires_at > now:
                yield _Call(_RELEASE, (name,), (value,))
            if self._pending.get(name, ("",))[0] == value:
                del self._pending[name]

    def _remember(self, name: str, value: str, expires_at: float) -> None:
        if len(self._pending) >= _MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        self._pending[name] = (value, expires_at)

    def _revoke(self, user: str, session: str | None, before: float, expires_at: float,
                now: float) -> Calls[None]:
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        yield _Call(_REVOKE, (self._revocation_names(user, session)[1],), (repr(float(before)), ttl_ms))

    def _revoked(self, user: str, session: str) -> Calls[float]:
        values = yield _Call(None, self._revocation_names(user, session))
        return max((float(v) for v in values if v is not None), default=NEVER)

    def _wait_ms(self) -> int:
        return max(1, int(self.timeout * 1000) - 50) if self.replicas else 0

    def _send(self, call: _Call) -> Any:
        """Send one call: its result, or on an asyncio client an awaitable of it."""
        if call.script is None:
            return self.client.mget(list(call.keys))
        if not call.replicas:
            return self.client.eval(call.script, len(call.keys), *call.keys, *call.args)
        # WAIT covers the writes of its own connection: one pipeline, one connection
        pipe = self.client.pipeline(transaction=False)
        pipe.eval(call.script, len(call.keys), *call.keys, *call.args)
        pipe.execute_command("WAIT", call.replicas, call.wait_ms)
        return pipe.execute()

    # -- running the steps: on a worker thread with a deadline, or awaited ---------------

    def _undoer(self, name: str, value: str, expires_at: float, now: float) -> Callable[[bool], None]:
        def undo(first: bool) -> None:
            # a claim that landed after its login was refused: release it now that Redis answers
            if first:
                self._remember(name, value, expires_at)
                with contextlib.suppress(Exception):  # still pending: the next claim settles it
                    drive(self._settle(now), self._send)

        return undo

    def _submit(self, steps: Calls[T]) -> Future[T]:
        if self.asynchronous:
            raise ConfigurationError(
                "RedisReplayStore: a redis.asyncio client only serves the ASGI skin; pass a "
                "redis.Redis client to the WSGI middleware."
            )
        if self._workers is None or self._pid != os.getpid():  # threads do not survive a fork
            self._workers, self._pid = _Workers(self._threads), os.getpid()
        return self._workers.submit(lambda: drive(steps, self._send))

    def _abandon(self, future: Future[T], undo: Callable[[T], None] | None) -> ReplayStoreUnavailable:
        """Stop waiting for ``future``; what it still does when Redis answers is undone."""
        if not future.cancel() and undo is not None:
            future.add_done_callback(lambda f: f.cancelled() or f.exception() or undo(f.result()))
        return ReplayStoreUnavailable(detail=f"no answer within {self.timeout:g} s")

    def _sync(self, steps: Calls[T], undo: Callable[[T], None] | None = None) -> T:
        future = self._submit(steps)
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            raise self._abandon(future, undo) from None

    async def _async(self, steps: Calls[T], undo: Callable[[T], None] | None = None, now: float = 0.0) -> T:
        if not self.asynchronous:
            future = self._submit(steps)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
            except asyncio.TimeoutError:
                raise self._abandon(future, undo) from None
        try:
            return await asyncio.wait_for(adrive(steps, self._send), self.timeout)
        except asyncio.TimeoutError:
            self._settle_later(now)
            raise ReplayStoreUnavailable(detail=f"no answer within {self.timeout:g} s") from None

    def _settle_later(self, now: float) -> None:
        """Keep trying to undo unknown claims in the background until Redis answers."""
        if not self._pending or (self._settling is not None and not self._settling.done()):
            return

        async def settle() -> None:
            delay = 0.05
            while self._pending:
                try:
                    await asyncio.wait_for(adrive(self._settle(now), self._send), self.timeout)
                except Exception:
                    await asyncio.sleep(delay)  # back off while Redis is still away
                    delay = min(1.0, delay * 2)

        self._settling = asyncio.get_running_loop().create_task(settle())


__all__ = [
    "NEVER",
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
    "SharedStateWarning",
    "several_workers",
]
