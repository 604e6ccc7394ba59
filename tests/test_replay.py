from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import KEY, Clock, Skin

from sso_middleware.errors import ConfigurationError, ReplayStoreFull
from sso_middleware.keys import Key
from sso_middleware.redis_store import RedisReplayStore
from sso_middleware.replay import MemoryReplayStore, ReplayStore, several_workers
from sso_middleware.tokens import sign


def test_memory_store_claims_once_and_forgets_after_expiry() -> None:
    store = MemoryReplayStore(max_entries=10)
    assert isinstance(store, ReplayStore)
    assert store.claim("a", expires_at=100.0, now=0.0)
    assert not store.claim("a", expires_at=100.0, now=99.0)
    assert store.claim("b", expires_at=50.0, now=1.0)
    assert len(store) == 2
    assert store.claim("c", expires_at=300.0, now=101.0)  # a and b have expired and left
    assert len(store) == 1


def test_memory_store_full_refuses_instead_of_forgetting() -> None:
    store = MemoryReplayStore(max_entries=3)
    for key in "abc":
        assert store.claim(key, expires_at=100.0, now=0.0)
    with pytest.raises(ReplayStoreFull):
        store.claim("d", expires_at=100.0, now=1.0)
    assert not store.claim("a", expires_at=100.0, now=2.0)  # still remembered
    assert store.claim("d", expires_at=200.0, now=100.5)


def test_a_mass_expiry_is_spread_over_many_claims() -> None:
    # 5,000 logins that all expire at once must not make one later request evict them all
    from sso_middleware.replay import EVICT_BATCH

    store = MemoryReplayStore(max_entries=5000)
    for i in range(5000):
        assert store.claim(f"old-{i}", expires_at=100.0, now=0.0)
    for k in range(1, 11):
        assert store.claim(f"new-{k}", expires_at=500.0, now=101.0)
        assert len(store) == 5000 - k * EVICT_BATCH + k  # a bounded batch per claim
    assert not store.claim("new-3", expires_at=500.0, now=102.0)  # the live ones are remembered
    assert store.claim("old-4999", expires_at=500.0, now=102.0)  # an expired one is not, evicted or not


def test_an_entry_claimed_again_after_expiry_keeps_its_new_expiry() -> None:
    store = MemoryReplayStore(max_entries=10)
    assert store.claim("a", expires_at=100.0, now=0.0)
    assert store.claim("a", expires_at=300.0, now=150.0)  # the first has expired (not yet evicted)
    assert store.claim("b", expires_at=400.0, now=160.0)  # evicts the old heap entry of "a" ...
    assert not store.claim("a", expires_at=300.0, now=170.0)  # ... without forgetting the new one


def test_a_store_used_after_a_fork_warns_in_the_child() -> None:
    import os
    import warnings

    from sso_middleware.replay import SharedStateWarning

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    store = MemoryReplayStore(max_entries=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
        pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the first claim warned
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            store.claim("x", expires_at=100.0, now=0.0)
            store.claim("y", expires_at=100.0, now=0.0)
        os._exit(0 if [w.category for w in caught] == [SharedStateWarning] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.claim("z", expires_at=100.0, now=0.0)  # the parent is not warned


def test_memory_store_bounded_entry_size() -> None:
    store = MemoryReplayStore()
    store.claim("x" * 10_000, expires_at=10.0, now=0.0)
    held = [k for shard in store._expiry for k in shard]
    assert held and all(isinstance(k, int) and k.bit_length() <= 64 for k in held)  # a hash, not the id


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_memory_store_config(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        MemoryReplayStore(max_entries=bad)


def _race(store: Any, n: int = 64) -> list[bool]:
    barrier = threading.Barrier(n)
    results: list[bool] = []

    def go() -> None:
        barrier.wait()
        results.append(store.claim("same", expires_at=time.time() + 60, now=time.time()))

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_memory_store_atomic_under_threads() -> None:
    assert sorted(_race(MemoryReplayStore())) == [False] * 63 + [True]


# -- Redis -------------------------------------------------------------------------------


@pytest.fixture
def redis_client(tmp_path: Path) -> Iterator[Any]:
    """A private redis-server on a unix socket (CI installs it; SSO_REQUIRE_REDIS makes it mandatory)."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("SSO_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    socket = tmp_path / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(unix_socket_path=str(socket))
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.redis
def test_redis_store_claims_once_with_expiry(redis_client: Any) -> None:
    store = RedisReplayStore(redis_client)
    assert store.claim("frill|jti", expires_at=1060.0, now=1000.0)
    assert not store.claim("frill|jti", expires_at=1060.0, now=1001.0)
    (name,) = redis_client.keys("sso_middleware:jti:*")
    assert 59_000 < redis_client.pttl(name) <= 60_000
    assert b"frill" not in name  # ids are digested, never stored as sent


@pytest.mark.redis
def test_redis_store_atomic_under_threads(redis_client: Any) -> None:
    # atomicity is under test, not latency: 64 claims queue on the store's 8 workers, and on a
    # loaded machine the default 0.5 s deadline would (rightly) fail some closed with a 503
    store = RedisReplayStore(redis_client, timeout=30)
    assert sorted(_race(store)) == [False] * 63 + [True]


@pytest.mark.redis
def test_verifier_with_redis_on_both_skins(skin: Skin, clock: Clock, redis_client: Any) -> None:
    store = RedisReplayStore(redis_client)
    _middleware, client = skin.verifier(key=KEY, clock=clock, replay_store=store)
    tok = sign({"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 60, "jti": "r1"}, Key(KEY))
    assert client.get(f"/sso?token={tok}").status == 303
    # a second process sharing the Redis also refuses it
    _, other = skin.verifier(key=KEY, clock=clock, replay_store=RedisReplayStore(redis_client))
    assert other.get(f"/sso?token={tok}").status == 401


def test_unreachable_redis_fails_closed(skin: Skin, clock: Clock, tmp_path: Path) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"), retry=Retry(NoBackoff(), 0))
    _, web = skin.verifier(key=KEY, clock=clock, replay_store=RedisReplayStore(client))
    tok = sign({"sub": "ada", "iat": int(clock.now), "exp": int(clock.now) + 60, "jti": "r2"}, Key(KEY))
    r = web.get(f"/sso?token={tok}", headers={"Accept": "application/json"})
    assert r.status == 503 and r.json()["error"] == "replay_store_unavailable"
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize(("argv", "environ", "found"), [
    pytest.param([], {"WEB_CONCURRENCY": "\u00b2"}, None, id="web-concurrency-superscript"),
    pytest.param(["/venv/bin/gunicorn", "app:app", "-w", "\u00b2"], {}, None, id="w-superscript"),
    pytest.param(["/venv/bin/gunicorn", "app:app", "-w\u00b2"], {}, None, id="w-joined-superscript"),
    pytest.param(["/venv/bin/uvicorn", "app:app", "--workers=\u00b3"], {}, None, id="workers-superscript"),
    # int(), which the servers read these with, takes any decimal digits: so do we
    pytest.param([], {"WEB_CONCURRENCY": "\u0664"}, "WEB_CONCURRENCY=\u0664", id="arabic-indic"),
    pytest.param(["/venv/bin/gunicorn", "app:app"], {"GUNICORN_CMD_ARGS": "-w \uff14"},
                 "the server runs \uff14 workers (-w \uff14)", id="fullwidth"),
])
def test_a_worker_count_is_read_as_the_servers_read_it(argv: list[str], environ: dict[str, str],
                                                        found: str | None) -> None:
    # '\u00b2' passes str.isdigit() but int() refuses it: no ValueError while the store is built
    assert several_workers(argv, environ) == found
