"""Verify-path throughput on real servers with a shared Redis: 1 vs 2 uvicorn workers, under wrk.

    python benchmarks/workers.py [--seconds 5]

Starts a private redis-server and ``uvicorn workers_app:app`` (tests/apps: an ASGI verifier on a
RedisReplayStore with an asyncio client), then drives it with ``wrk`` (Debian package ``wrk``):
every request presents a fresh token (verify, claim in Redis, session cookie, 303), and a second
run requests a page with a session cookie (one revocation MGET per request). Prints requests/s and
latency percentiles per worker count. Needs redis-server, wrk and a free core or two.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "apps")]

from redis_servers import redis_server  # noqa: E402
from test_workers import KEY, workers  # noqa: E402

from sso_middleware.keys import Key  # noqa: E402
from sso_middleware.tokens import sign  # noqa: E402

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
        with redis_server(work / "redis") as server:
            for count in (1, 2):
                log = work / f"uvicorn{count}.log"
                with workers(count, log, SSO_TEST_REDIS_PORT=str(server.port)) as url:
                    # wrk's two threads take alternate tokens: each token is presented once
                    login = wrk(url, args.seconds, work / "tokens.lua", str(work / "tokens"))
                    print(f"{count} worker(s): verify path {login}", flush=True)
                    server.client().flushall()
    print("(run on a quiet machine; wrk shares the cores with the server)")


if __name__ == "__main__":
    main()
