"""Several uvicorn worker processes: exactly once with Redis; the in-memory store says what it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from redis_servers import free_port, redis_server, wait_until

from sso_middleware.keys import Key
from sso_middleware.tokens import sign

APPS = Path(__file__).parent / "apps"
KEY = "workers-test-key-0123456789-abcdefghijklmn"

pytestmark = [pytest.mark.slow, pytest.mark.network]  # uvicorn worker processes


@contextmanager
def workers(count: int, log: Path, **env: str) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "workers_app:app", "--app-dir", str(APPS),
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(count), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )
        url = f"http://127.0.0.1:{port}"

        def pids() -> int:
            try:
                seen = {httpx.get(f"{url}/", headers={"Connection": "close"}).headers["x-pid"]
                        for _ in range(4 * count)}
            except httpx.HTTPError:
                return 0
            return len(seen)

        try:
            wait_until(lambda: proc.poll() is None and pids() >= min(2, count), "uvicorn workers", 60)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # never leave a server behind for a later test
                proc.kill()
                proc.wait()


def present_all(url: str, tokens: list[str], copies: int) -> tuple[Counter[str], set[str]]:
    """Each token ``copies`` times at once, on fresh connections; how many logins each got."""
    def present(tok: str) -> tuple[str, int, str]:
        r = httpx.get(f"{url}/sso?token={tok}", headers={"Connection": "close"})
        return tok, r.status_code, r.headers["x-pid"]

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(present, [tok for tok in tokens for _ in range(copies)]))
    return Counter(tok for tok, status, _ in results if status == 303), {pid for *_, pid in results}


def tokens(n: int) -> list[str]:
    now = int(time.time())  # a real server's clock: the tokens must be live for it
    return [sign({"sub": f"u{i}", "iat": now, "exp": now + 300, "jti": f"w{i}"}, Key(KEY)) for i in range(n)]


@pytest.mark.redis
def test_redis_store_exactly_once_across_four_processes(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server, \
            workers(4, tmp_path / "uvicorn.log", SSO_TEST_REDIS_PORT=str(server.port)) as url:
        batch = tokens(60)
        logins, pids = present_all(url, batch, copies=8)
    assert len(pids) >= 2, "only one worker answered"
    assert all(logins[tok] == 1 for tok in batch), logins


def test_memory_store_under_several_workers_warns_naming_the_fix(tmp_path: Path) -> None:
    log = tmp_path / "uvicorn.log"
    with workers(2, log) as url:
        present_all(url, tokens(4), copies=4)
    text = log.read_text()
    assert "SharedStateWarning" in text and "one-time per process" in text
    assert "RedisReplayStore" in text and "--workers 2" in text
