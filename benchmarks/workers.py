"""Verify-path throughput on real servers with a shared Redis: 1 vs 2 uvicorn workers, under wrk.

    python -m benchmarks.workers [--seconds 5]

Starts a private redis-server and ``uvicorn workers_app:app`` (tests/apps: an ASGI verifier on a
RedisReplayStore with an asyncio client), then drives it with ``wrk`` (Debian package ``wrk``):
every request presents a fresh token (verify, claim in Redis, session cookie, 303), and a second
run requests a page with a session cookie (one revocation MGET per request). Prints requests/s and
latency percentiles per worker count. Needs redis-server, wrk and a free core or two.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sso_middleware.keys import Key
from sso_middleware.tokens import sign

# the server is the multi-process tests' app (tests/test_workers.py starts it the same way), which
# uvicorn imports from its own --app-dir; this is its key
APPS = Path(__file__).resolve().parent.parent / "tests" / "apps"
KEY = "workers-test-key-0123456789-abcdefghijklmn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until(condition: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def redis_server(directory: Path) -> Iterator[int]:
    """A private redis-server on a free port, no persistence: its port."""
    import redis

    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            with redis.Redis(port=port, socket_timeout=0.5) as probe:
                return bool(probe.ping())
        except redis.RedisError:
            return False

    try:
        _wait_until(answers, f"redis-server on port {port}", 15)
        yield port
    finally:
        _stop(proc)


@contextmanager
def workers(count: int, log: Path, **env: str) -> Iterator[str]:
    """``uvicorn workers_app:app --workers count``: its URL once ``min(2, count)`` workers answer."""
    import httpx

    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "workers_app:app", "--app-dir", str(APPS),
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(count), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )
    url = f"http://127.0.0.1:{port}"

    def pids() -> int:
        try:
            return len({httpx.get(f"{url}/", headers={"Connection": "close"}).headers["x-pid"]
                        for _ in range(4 * count)})
        except httpx.HTTPError:
            return 0

    try:
        _wait_until(lambda: proc.poll() is None and pids() >= min(2, count), "uvicorn workers", 60)
        yield url
    finally:
        _stop(proc)


LUA = """
local created = 0
setup = function(thread)
  thread:set("id", created)
  created = created + 1
end
local tokens = {}
local i = 0
init = function(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n % 2 == id then tokens[#tokens + 1] = line end
    n = n + 1
  end
end
request = function()
  i = i + 1
  return wrk.format("GET", "/sso?token=" .. tokens[(i - 1) % #tokens + 1])
end
"""


def wrk(url: str, seconds: int, script: Path, *script_args: str) -> dict[str, object]:
    """Two wrk threads, 32 connections; requests/s and latency percentiles."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url, "--", *script_args],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests/s": float(rps.group(1)) if rps else 0.0, "p50": lat.get("50"), "p99": lat.get("99"),
            "failed": int(non2xx.group(1)) if non2xx else 0}


def flush(port: int) -> None:
    import redis

    with redis.Redis(port=port) as client:
        client.flushall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("redis-server"):
        sys.exit("needs wrk and redis-server (apt-get install wrk redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        now = int(time.time())
        n = 3000 * args.seconds * 2
        (work / "tokens").write_text("\n".join(
            sign({"sub": f"u{i}", "iat": now, "exp": now + 600, "jti": f"b{i}"}, Key(KEY)) for i in range(n)))
        (work / "tokens.lua").write_text(LUA)
        with redis_server(work / "redis") as redis_port:
            for count in (1, 2):
                log = work / f"uvicorn{count}.log"
                with workers(count, log, SSO_TEST_REDIS_PORT=str(redis_port)) as url:
                    # wrk's two threads take alternate tokens: each token is presented once
                    login = wrk(url, args.seconds, work / "tokens.lua", str(work / "tokens"))
                    print(f"{count} worker(s): verify path {login}", flush=True)
                    flush(redis_port)
    print("(run on a quiet machine; wrk shares the cores with the server)")


if __name__ == "__main__":
    main()
