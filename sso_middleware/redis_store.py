"""The replay store for many processes and hosts: Redis, fast to fail and never burning a token.

Each call is one round trip (a Lua script, or ``MGET``), written once as
:mod:`~sso_middleware.steps` and run on a worker thread with a deadline (a
``redis.Redis``) or awaited with one (a ``redis.asyncio.Redis``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import os
import queue
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ConfigurationError, ReplayStoreUnavailable
from .replay import NEVER, digest
from .steps import Steps, adrive, drive
from .tokens import check_seconds

T = TypeVar("T")

# A claim writes a value of its own: the client's retry of the same claim finds that value
# and is still the first presentation; a value this process abandoned (its login got a 503)
# is taken over by the next attempt, whichever of the two reached Redis first.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 1 end
for i = 3, #ARGV do
  if held == ARGV[i] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
  end
end
return 0
"""
# Undo one abandoned claim, and nobody else's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Keep the latest cut-off and the longest life of every revoke of one key.
_REVOKE = """
local value = ARGV[1]
local old = redis.call('GET', KEYS[1])
if old and tonumber(old) > tonumber(value) then value = old end
redis.call('SET', KEYS[1], value, 'PX', math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1])))
return 1
"""
_MAX_ABANDONED = 10_000


@dataclass(frozen=True, slots=True)
class _Call:
    """One round trip: a Lua script (or ``MGET`` without one), then ``WAIT`` for replicas."""

    script: str | None
    keys: tuple[str, ...]
    args: tuple[str | int, ...] = ()
    replicas: int = 0
    wait_ms: int = 0


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One presentation's claim: the key's name in Redis and this attempt's own value."""

    name: str
    value: str
    expires_at: float
    ttl_ms: int


Calls = Steps[_Call, T]


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

    Pass a ``redis.Redis`` (WSGI or ASGI) or a ``redis.asyncio.Redis`` (ASGI, no
    thread per call), standalone, Sentinel (``sentinel.master_for(...)``) or
    Cluster. Every call answers within ``timeout`` seconds whatever the client's
    own retry settings; when Redis cannot answer in time the login gets a 503
    (fail closed) and its token stays good: each claim writes a value of its own,
    so the client's retry of it is still the first presentation, and a claim
    whose outcome is unknown is taken over by the next attempt in this process
    and undone as soon as Redis answers again.

    ``replicas=N`` waits (``WAIT``) until N replicas hold each claim before the
    login is accepted, so a failover to a replica cannot resurrect a consumed
    token; fewer acknowledgements within ``timeout`` refuse the login (503).

    >>> import redis
    >>> store = RedisReplayStore(redis.Redis(host="redis", socket_timeout=1), timeout=0.5)
    >>> (store.timeout, store.asynchronous)
    (0.5, False)
    """

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
        for value, label, least in ((replicas, "replicas", 0), (threads, "threads", 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigurationError(f"{label} must be a whole number of at least {least}.")
        if replicas and hasattr(client, "get_node_from_key"):
            raise ConfigurationError(
                "replicas: WAIT must follow the write on its own connection, which a Cluster "
                "client cannot promise; use a standalone or Sentinel client, or replicas=0."
            )
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError(f"prefix {prefix!r}: use a non-empty name without braces.")
        self.client = client
        self.prefix = prefix
        self.timeout = float(timeout)
        self.replicas = replicas
        self.asynchronous: bool = inspect.iscoroutinefunction(client.execute_command)
        self._threads = threads
        self._workers: _Workers | None = None
        self._pid = os.getpid()
        # claims whose login got a 503 but which may still land, (name, value) -> expires_at:
        # taken over by a later attempt in this process until they expire (a late write can
        # land after any release), and released in Redis for attempts on other processes
        self._abandoned: dict[tuple[str, str], float] = {}
        self._unreleased: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._settling = False

    # -- the ReplayStore protocol ---------------------------------------------------

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        attempt = self._attempt(key, expires_at, now)
        return self._sync(self._claim(attempt, now), attempt, now)

    def revoke(self, user: str, session: str | None, before: float, expires_at: float, now: float) -> None:
        self._sync(self._revoke(user, session, before, expires_at, now))

    def revoked(self, user: str, session: str, now: float) -> float:
        return self._sync(self._revoked(user, session))

    async def aclaim(self, key: str, expires_at: float, now: float) -> bool:
        attempt = self._attempt(key, expires_at, now)
        return await self._async(self._claim(attempt, now), attempt, now)

    async def arevoke(
        self, user: str, session: str | None, before: float, expires_at: float, now: float
    ) -> None:
        await self._async(self._revoke(user, session, before, expires_at, now))

    async def arevoked(self, user: str, session: str, now: float) -> float:
        return await self._async(self._revoked(user, session))

    def used(self, key: str, now: float) -> bool:
        """Whether ``key`` is claimed (read only: a confirm page asks before the person confirms)."""
        return self._sync(self._used(key, now))

    async def aused(self, key: str, now: float) -> bool:
        return await self._async(self._used(key, now))

    # -- what each call does, however it is run -------------------------------------

    def _attempt(self, key: str, expires_at: float, now: float) -> _Attempt:
        name = f"{self.prefix}jti:{digest(key).hex()}"
        return _Attempt(name, secrets.token_hex(8), expires_at, max(1, math.ceil((expires_at - now) * 1000)))

    def _claim(self, attempt: _Attempt, now: float) -> Calls[bool]:
        yield from self._settle(now, keep=attempt.name)
        with self._lock:
            mine = [value for (name, value), expires_at in self._abandoned.items()
                    if name == attempt.name and expires_at > now]
        wait_ms = max(1, int(self.timeout * 600)) if self.replicas else 0  # leave time to answer
        call = _Call(_CLAIM, (attempt.name,), (attempt.value, attempt.ttl_ms, *mine), self.replicas, wait_ms)
        try:
            answer = yield call
        except BaseException:
            self._abandon(attempt)  # it may have landed: take it over or undo it later
            raise
        first, acked = (answer[0], answer[1]) if self.replicas else (answer, 0)
        if first and acked < self.replicas:
            self._abandon(attempt)
            with contextlib.suppress(Exception):
                yield from self._settle(now)
            raise ReplayStoreUnavailable(detail=f"{acked} of {self.replicas} replicas acknowledged")
        return bool(first)

    def _settle(self, now: float, keep: str = "") -> Calls[None]:
        """Undo abandoned claims in Redis (their logins got a 503: their tokens stay good)."""
        with self._lock:
            entries = [entry for entry in self._unreleased if entry[0] != keep]
        for entry in entries:
            if self._abandoned.get(entry, now) > now:
                yield _Call(_RELEASE, entry[:1], entry[1:])
            with self._lock:
                self._unreleased.discard(entry)

    def _abandon(self, attempt: _Attempt) -> None:
        entry = (attempt.name, attempt.value)
        with self._lock:
            if len(self._abandoned) >= _MAX_ABANDONED:
                oldest = next(iter(self._abandoned))
                del self._abandoned[oldest]
                self._unreleased.discard(oldest)
            self._abandoned[entry] = attempt.expires_at
            self._unreleased.add(entry)

    def _used(self, key: str, now: float) -> Calls[bool]:
        name = f"{self.prefix}jti:{digest(key).hex()}"
        values = yield _Call(None, (name,))
        value = values[0].decode() if isinstance(values[0], bytes) else values[0]
        with self._lock:  # a claim of ours whose login got a 503 is not a use: it is taken over
            mine = {v for (n, v), expires_at in self._abandoned.items() if n == name and expires_at > now}
        return value is not None and value not in mine

    def _revoke(self, user: str, session: str | None, before: float, expires_at: float,
                now: float) -> Calls[None]:
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        yield _Call(_REVOKE, (self._revocation_names(user, session)[1],), (repr(float(before)), ttl_ms))

    def _revoked(self, user: str, session: str) -> Calls[float]:
        values = yield _Call(None, self._revocation_names(user, session))
        return max((float(v) for v in values if v is not None), default=NEVER)

    def _revocation_names(self, user: str, session: str | None) -> tuple[str, str]:
        # one hash tag per user: both names live in one Cluster slot, so one MGET reads both
        tag = f"{self.prefix}revoked:{{{digest(user).hex()}}}"
        return tag, f"{tag}:{digest(session).hex()}" if session else tag

    def _send(self, call: _Call) -> Any:
        """Send one call: its answer, or on an asyncio client an awaitable of it."""
        if call.script is None:
            return self.client.mget(list(call.keys))
        if not call.replicas:
            return self.client.eval(call.script, len(call.keys), *call.keys, *call.args)
        # WAIT counts the writes of its own connection: one pipeline is one connection
        pipe = self.client.pipeline(transaction=False)
        pipe.eval(call.script, len(call.keys), *call.keys, *call.args)
        pipe.execute_command("WAIT", call.replicas, call.wait_ms)
        return pipe.execute()

    # -- running: on a worker thread with a deadline, or awaited with one -----------

    def _submit(self, steps: Calls[T]) -> Future[T]:
        if self.asynchronous:
            raise ConfigurationError(
                "RedisReplayStore: a redis.asyncio client only serves the ASGI skin; pass a "
                "redis.Redis client to the WSGI middleware."
            )
        if self._workers is None or self._pid != os.getpid():  # threads do not survive a fork
            self._workers, self._pid = _Workers(self._threads), os.getpid()
        return self._workers.submit(lambda: drive(steps, self._send))

    def _late(self, future: Future[T], attempt: _Attempt | None, now: float) -> ReplayStoreUnavailable:
        """Stop waiting for ``future``: a claim it still makes is undone once Redis answers."""
        if attempt is not None:
            self._abandon(attempt)
            if future.cancel():  # never sent
                with self._lock:
                    self._abandoned.pop((attempt.name, attempt.value), None)
                    self._unreleased.discard((attempt.name, attempt.value))
            else:
                future.add_done_callback(lambda _: self._settle_later(now))
        return ReplayStoreUnavailable(detail=f"no answer within {self.timeout:g} s")

    def _sync(self, steps: Calls[T], attempt: _Attempt | None = None, now: float = 0.0) -> T:
        future = self._submit(steps)
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            raise self._late(future, attempt, now) from None
        except Exception:
            self._settle_later(now)
            raise

    async def _async(self, steps: Calls[T], attempt: _Attempt | None = None, now: float = 0.0) -> T:
        if not self.asynchronous:  # a sync client on ASGI: its worker thread, awaited
            future = self._submit(steps)
            try:
                return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
            except asyncio.TimeoutError:
                raise self._late(future, attempt, now) from None
        try:
            return await asyncio.wait_for(adrive(steps, self._send), self.timeout)
        except asyncio.TimeoutError:
            self._settle_later(now)
            raise ReplayStoreUnavailable(detail=f"no answer within {self.timeout:g} s") from None
        except Exception:
            self._settle_later(now)
            raise

    def _settle_later(self, now: float) -> None:
        """Undo abandoned claims in the background, retrying until Redis answers."""
        with self._lock:
            if self._settling or not self._unreleased:
                return
            self._settling = True
        if self.asynchronous:
            asyncio.get_running_loop().create_task(self._asettle(now))
        else:
            self._submit(self._settle_retrying(now))

    def _settle_retrying(self, now: float) -> Calls[None]:
        try:
            for _ in range(100):
                try:
                    yield from self._settle(now)
                    return
                except Exception:
                    threading.Event().wait(min(1.0, self.timeout))  # back off: Redis is still away
        finally:
            self._settling = False

    async def _asettle(self, now: float) -> None:
        try:
            for _ in range(100):
                try:
                    await asyncio.wait_for(adrive(self._settle(now), self._send), self.timeout)
                    return
                except Exception:
                    await asyncio.sleep(min(1.0, self.timeout))  # back off: Redis is still away
        finally:
            self._settling = False


__all__ = ["RedisReplayStore"]
