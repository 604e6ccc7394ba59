"""The Redis replay store under faults, against real redis-servers: paused, killed, failed over, clustered.

Promises pinned here (issue "Many processes, many hosts"): a login the store cannot answer gets
its 503 within the store's ``timeout`` whatever the client's retry settings; no first presentation
is ever reported as a replay; a token refused with 503 stays good; claims acknowledged by a
replica survive a failover; Sentinel and Cluster clients work.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import KEY, Clock, Skin
from redis_servers import RedisServer, cluster, redis_server, replicated, wait_until

from sso_middleware import asgi
from sso_middleware.errors import ReplayStoreUnavailable
from sso_middleware.keys import Key
from sso_middleware.redis_store import RedisReplayStore
from sso_middleware.tokens import sign

pytest.importorskip("redis")


def token(clock: Clock, jti: str, user: str = "ada") -> str:
    return sign({"sub": user, "iat": int(clock.now), "exp": int(clock.now) + 300, "jti": jti}, Key(KEY))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path / "redis") as running:
        yield running


def json_get(client: Any, url: str) -> Any:
    return client.get(url, headers={"Accept": "application/json"})


@pytest.mark.redis
@pytest.mark.network
def test_hung_redis_answers_503_within_the_timeout_and_burns_nothing(
    skin: Skin, clock: Clock, server: RedisServer
) -> None:
    # redis-py's defaults: retries with backoff and no socket timeout at all
    store = RedisReplayStore(server.client(), timeout=0.3)
    _, web = skin.verifier(key=KEY, clock=clock, replay_store=store)
    assert web.get(f"/sso?token={token(clock, 'warm')}").status == 303
    tok = token(clock, "during-the-pause")
    server.pause()
    started = time.monotonic()
    r = json_get(web, f"/sso?token={tok}")
    waited = time.monotonic() - started
    assert r.status == 503 and r.json()["error"] == "replay_store_unavailable"
    # a bound, not a speed target: the client alone would wait for ever
    assert waited < 3.0, f"the 503 took {waited:.2f} s"
    server.resume()
    assert web.get(f"/sso?token={tok}").status == 303  # the refused login did not burn the token
    assert json_get(web.stranger(), f"/sso?token={tok}").json()["error"] == "token_replayed"


@pytest.mark.redis
@pytest.mark.network
def test_killed_redis_answers_503_fast_and_recovers(skin: Skin, clock: Clock, server: RedisServer) -> None:
    store = RedisReplayStore(server.client(), timeout=0.3)
    _, web = skin.verifier(key=KEY, clock=clock, replay_store=store)
    server.kill()
    started = time.monotonic()
    r = json_get(web, f"/sso?token={token(clock, 'k1')}")
    assert r.status == 503 and time.monotonic() - started < 3.0
    server.start()
    assert web.get(f"/sso?token={token(clock, 'k1')}").status == 303


class _Retry:
    """redis-py's own retry, with a hook: ``failed`` is set when the first attempt times out."""

    def __new__(cls, failed: threading.Event) -> Any:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        class Hooked(Retry):
            def call_with_retry(self, do: Any, fail: Any, *args: Any, **kwargs: Any) -> Any:
                def noted(error: Exception, *rest: Any) -> Any:
                    failed.set()
                    return fail(error, *rest)

                return super().call_with_retry(do, noted, *args, **kwargs)

        return Hooked(NoBackoff(), 20)


@pytest.mark.redis
@pytest.mark.network
def test_the_clients_own_retry_is_never_a_false_replay(clock: Clock, server: RedisServer) -> None:
    failed = threading.Event()
    client = server.client(socket_timeout=0.1, retry=_Retry(failed))
    store = RedisReplayStore(client, timeout=10)  # the store waits out the client's retries
    results: list[bool] = []
    server.pause()
    claim = threading.Thread(target=lambda: results.append(store.claim("svc|jti", clock.now + 60, clock.now)))
    claim.start()
    assert failed.wait(10)  # the first EVAL sits in the paused server; the client now retries it
    server.resume()
    claim.join(15)
    assert results == [True]  # the retry found its own write: still the first presentation
    assert not store.claim("svc|jti", clock.now + 60, clock.now)


@pytest.mark.redis
@pytest.mark.network
def test_pause_and_resume_under_load_no_false_replay_no_burnt_token(
    clock: Clock, server: RedisServer
) -> None:
    from werkzeug.test import Client

    from sso_middleware.wsgi import VerifierMiddleware

    store = RedisReplayStore(server.client(socket_timeout=2), timeout=0.2)
    web = VerifierMiddleware(lambda e, s: s("200 OK", []) or [b""], key=KEY, clock=clock, replay_store=store)
    tokens = [token(clock, f"load-{i}") for i in range(200)]
    statuses: dict[int, list[int]] = {i: [] for i in range(len(tokens))}
    refused = threading.Semaphore(0)

    def present(i: int) -> None:
        while True:  # a user who gets a 503 tries again, as a browser would
            status = Client(web).get(f"/sso?token={tokens[i]}").status_code
            statuses[i].append(status)
            if status != 503:
                return
            refused.release()

    threads = [threading.Thread(target=present, args=(i,)) for i in range(len(tokens))]
    for t in threads[:50]:
        t.start()
    server.pause()
    for t in threads[50:]:
        t.start()
    for _ in range(20):  # the pause has refused logins ...
        assert refused.acquire(timeout=20)
    server.resume()  # ... and their users retry after it
    for t in threads:
        t.join(60)
    final = [s[-1] for s in statuses.values()]
    assert final.count(303) == len(tokens), {i: s for i, s in statuses.items() if s[-1] != 303}
    assert not any(401 in s for s in statuses.values())  # no false replay, no burnt token
    assert sum(s.count(503) for s in statuses.values()) >= 20
    assert all(Client(web).get(f"/sso?token={tok}").status_code == 401 for tok in tokens[:20])


@pytest.mark.redis
@pytest.mark.network
def test_asyncio_client_hung_and_resumed(clock: Clock, server: RedisServer) -> None:
    import redis.asyncio

    async def scenario() -> list[int]:
        client = redis.asyncio.Redis(port=server.port)
        store = RedisReplayStore(client, timeout=0.3)
        assert store.asynchronous
        web = asgi.VerifierMiddleware(_asgi_ok, key=KEY, clock=clock, replay_store=store)
        tok = token(clock, "async-1")
        statuses = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as http:
            server.pause()
            statuses.append((await http.get(f"/sso?token={tok}")).status_code)
            server.resume()
            for _ in range(2):  # the retry (whichever is first to Redis) wins once
                statuses.append((await http.get(f"/sso?token={tok}")).status_code)
                http.cookies.clear()  # the second try is another browser's
        await client.aclose()
        return statuses

    assert asyncio.run(scenario()) == [503, 303, 401]


async def _asgi_ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.redis
@pytest.mark.network
def test_asyncio_client_on_wsgi_is_refused_at_construction(server: RedisServer) -> None:
    import redis.asyncio

    from sso_middleware import ConfigurationError
    from sso_middleware.wsgi import VerifierMiddleware

    with pytest.raises(ConfigurationError, match=r"redis\.asyncio"):
        VerifierMiddleware(lambda e, s: [], key=KEY,
                           replay_store=RedisReplayStore(redis.asyncio.Redis(port=server.port)))


@pytest.mark.redis
@pytest.mark.network
def test_logout_revokes_on_every_host_sharing_redis(skin: Skin, clock: Clock, server: RedisServer) -> None:
    _, web = skin.verifier(key=KEY, clock=clock, replay_store=RedisReplayStore(server.client()))
    there, _ = skin.verifier(key=KEY, clock=clock, replay_store=RedisReplayStore(server.client()))
    assert web.get(f"/sso?token={token(clock, 'r1')}").status == 303
    copy = skin.client(there)
    copy.set_cookie("sso_session", web.cookie("sso_session"))
    assert copy.get("/page").json()["user"] == "ada"
    assert web.request("POST", "/sso/logout").status == 303
    assert copy.get("/page").json()["user"] is None


@pytest.mark.redis
@pytest.mark.network
@pytest.mark.slow
def test_wait_for_a_replica_and_a_failover_resurrects_nothing(clock: Clock, tmp_path: Path) -> None:
    from redis.sentinel import Sentinel

    with replicated(tmp_path) as (primary, replica, sentinel):
        watcher = Sentinel([("127.0.0.1", sentinel.port)], socket_timeout=0.5)
        store = RedisReplayStore(watcher.master_for("main", socket_timeout=0.5), timeout=0.5, replicas=1)
        now, later = clock.now, clock.now + 300
        # every first use is accepted (a 503 while the replica is slow to acknowledge, on a loaded
        # machine, is retried: the retry takes its own attempt over)
        assert all(settled(lambda i=i: store.claim(f"t{i}", later, now)) for i in range(20))
        replica.pause()  # the replica cannot acknowledge: the claim is refused, not half-made
        with pytest.raises(ReplayStoreUnavailable) as refused:
            store.claim("during", later, now)
        # WAIT's own answer, or on an overloaded machine the store's deadline: either way a 503
        assert refused.value.detail in ("0 of 1 replicas acknowledged", "no answer within 0.5 s")
        replica.resume()
        primary.kill()  # the sentinel promotes the replica
        wait_until(lambda: _master_port(watcher) == replica.port, "the failover", 30)
        # consumed stays consumed (a 503 while the new primary warms up under load is retried)
        assert not any(settled(lambda: store.claim(f"t{i}", later, now)) for i in range(20))
        # the new primary has no replica left: replicas=1 now refuses every login (fail closed) ...
        with pytest.raises(ReplayStoreUnavailable):
            store.claim("new", later, now)
        # ... and the login refused during the pause did not use its token up
        unreplicated = RedisReplayStore(watcher.master_for("main", socket_timeout=0.5))
        assert settled(lambda: unreplicated.claim("during", later, now))


def settled(claim: Callable[[], bool]) -> bool:
    """A claim's definite answer. The store fails closed with a 503 when Redis is slow (right after
    a failover, on a loaded machine); the property under test is the answer, so wait for one."""
    answers: list[bool] = []

    def answered() -> bool:
        try:
            answers.append(claim())
        except ReplayStoreUnavailable:
            return False
        return True

    wait_until(answered, "a definite answer from the store", 30)
    return answers[-1]


def _master_port(watcher: Any) -> int | None:
    from redis.sentinel import MasterNotFoundError

    try:
        return int(watcher.discover_master("main")[1])
    except MasterNotFoundError:  # mid-failover
        return None


@pytest.mark.redis
@pytest.mark.network
@pytest.mark.slow
def test_cluster_claims_exactly_once_and_revokes(clock: Clock, tmp_path: Path) -> None:
    from redis.cluster import RedisCluster

    with cluster(tmp_path) as nodes:
        client = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=0.5)
        store = RedisReplayStore(client)
        now, later = clock.now, clock.now + 300
        assert all(store.claim(f"c{i}", later, now) for i in range(60))
        assert not any(store.claim(f"c{i}", later, now) for i in range(60))
        assert all(n.client().dbsize() > 0 for n in nodes)  # the ids are spread over the masters
        store.revoke("svc\x1fada", "sid-1", later, later, now)
        assert store.revoked("svc\x1fada", "sid-1", now) == later
        store.revoke("svc\x1fada", None, now, later, now)  # every session: one slot, one MGET
        assert store.revoked("svc\x1fada", "sid-2", now) == now
        client.close()


@pytest.mark.parametrize(("doc", "marker"), [("README.md", "astore ="), ("docs/operations.md", "durable =")])
def test_documented_store_setups_run_as_written(doc: str, marker: str) -> None:
    import re

    text = (Path(__file__).parent.parent / doc).read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if marker in b]
    found: dict[str, Any] = {}
    exec(compile(block, doc, "exec"), found)  # clients connect lazily: nothing is reached here
    stores = [v for v in found.values() if isinstance(v, RedisReplayStore)]
    assert len(stores) == 2 and stores[0].timeout == 0.5
    if doc == "README.md":
        assert [s.asynchronous for s in stores] == [False, True]
    else:
        assert stores[1].replicas == 1
