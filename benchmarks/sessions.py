"""Signed-in requests with many live sessions: 1, 1k, 10k and 100k distinct session cookies, cycling.

    python -m benchmarks.sessions            # full run: in process, callgrind, uvicorn (~15 min)
    python -m benchmarks.sessions --smoke    # small counts, in process only (CI, via benchmarks.run)

Every request carries one session cookie; request ``i`` carries cookie ``i mod N``, so once more
sessions are live than the verifier's cache holds (``CACHE_SIZE`` per process and scheme), every
request is a cache miss: the cookie is checked in full (HMAC, claims) and its user built again.
Three apps see the same kind of request, measured in the same run:

- ``bare``: the Starlette app alone (sent our cookie, which it ignores): the floor;
- ``ours``: that app inside ``sso_middleware.asgi.VerifierMiddleware`` (in-memory store);
- ``pair``: that app inside Starlette's ``SessionMiddleware`` + ``AuthenticationMiddleware`` with a
  backend reading the user from the session (the same id, email and name), sent its own cookie.

Each figure is the cost the layers add over ``bare``, and the ratio is ours over the pair's, per
round (the rounds interleave the apps, so drift hits all alike); the spread is the rounds' range.
Beside the wall clock (in process, and inside uvicorn under ``wrk`` with a script cycling the
cookies), callgrind counts instructions per request (in process, and in uvicorn): the figures a
noisy machine cannot move. ``tracemalloc`` gives the bytes one cached session holds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection as Connection

from sso_middleware.principal import Principal
from sso_middleware.session import CACHE_SIZE

from . import apps
from .real_servers import _free_port, _pin, _tree, cpu_seconds, wait_for_port, wrk

HERE = Path(__file__).resolve().parent
SIZES = (1, 1_000, 10_000, 100_000)
APPS = ("bare", "ours", "pair")
PARTS = ("in_process", "instructions", "uvicorn")


class SessionUser(AuthenticationBackend):
    """What a Starlette app writes for itself: the user kept in the signed session."""

    async def authenticate(self, conn: Connection) -> tuple[AuthCredentials, SimpleUser] | None:
        data = conn.session.get("user")
        return (AuthCredentials(["authenticated"]), SimpleUser(data["name"])) if data else None


def starlette_pair() -> Starlette:
    return Starlette(routes=apps.starlette_hello().routes, middleware=[
        Middleware(SessionMiddleware, secret_key=apps.SESSION_SECRET),
        Middleware(AuthenticationMiddleware, backend=SessionUser()),
    ])


# the apps uvicorn serves (benchmarks.sessions:<name>); built the same way in process
bare = apps.starlette_hello()
ours = apps.asgi_verifier(apps.starlette_hello())
pair = starlette_pair()


def _user(i: int) -> dict[str, Any]:
    return {"id": i, "email": f"user{i}@example.com", "name": f"User {i}"}


def cookies(n: int) -> dict[str, list[str]]:
    """``n`` live sessions, as ``Cookie`` header values, for our verifier (keyed with
    ``apps.KEY``, as every process builds it) and for Starlette's pair (its own cookie format)."""
    sessions, now = ours.receiver.sessions, time.time()
    signer = TimestampSigner(apps.SESSION_SECRET)
    mine = [sessions.open(Principal(**_user(i)), "sso", now, False).split(";", 1)[0] for i in range(n)]
    theirs = ["session=" + signer.sign(base64.b64encode(json.dumps({"user": _user(i)}).encode())).decode()
              for i in range(n)]
    return {"bare": mine, "ours": mine, "pair": theirs}


async def _signed_in(scope: Any, receive: Any, send: Any) -> None:
    if not scope["user"].is_authenticated:
        raise RuntimeError("a benchmark cookie did not sign in: the figures would be of a refusal")


def check(made: dict[str, list[str]]) -> None:
    """The first and last cookies of each app sign in (else the figures would be of refusals)."""
    probes = {"ours": apps.asgi_verifier(_signed_in), "pair": Starlette(middleware=[
        Middleware(SessionMiddleware, secret_key=apps.SESSION_SECRET),
        Middleware(AuthenticationMiddleware, backend=SessionUser())])}
    probes["pair"].router.mount("/", _signed_in)

    async def probe() -> None:
        for app, probe in probes.items():
            for header in (made[app][0], made[app][-1]):
                await probe(_scope(header), _receive, _send)

    asyncio.run(probe())


# -- in process: wall clock -------------------------------------------------------------------


def _scope(cookie: str) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/hello", "raw_path": b"/hello", "root_path": "", "query_string": b"",
            "headers": [(b"host", b"bench"), (b"cookie", cookie.encode("latin-1"))],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Any) -> None:
    return None


class Cycle:
    """One app and its cookies, called with the next cookie each time (as a server would: a new
    scope per request)."""

    def __init__(self, app: Any, headers: list[str]) -> None:
        self.app, self.scopes, self.at = app, [_scope(c) for c in headers], 0

    async def run(self, count: int) -> float:
        """Seconds per request over ``count`` requests."""
        app, scopes, n, at = self.app, self.scopes, len(self.scopes), self.at
        start = time.perf_counter()
        for i in range(at, at + count):
            await app(dict(scopes[i % n]), _receive, _send)
        self.at = (at + count) % n
        return (time.perf_counter() - start) / count


def _summary(per_app: dict[str, list[float]], scale: float = 1e6) -> dict[str, Any]:
    """Medians, the layers' cost over bare, and ours over the pair's per round with its spread."""
    rounds = range(len(per_app["bare"]))
    ratios = [(per_app["ours"][r] - per_app["bare"][r]) / (per_app["pair"][r] - per_app["bare"][r])
              for r in rounds]
    median = {app: statistics.median(times) * scale for app, times in per_app.items()}
    return {
        **{f"{app}": round(value, 3) for app, value in median.items()},
        "ours_delta": round(median["ours"] - median["bare"], 3),
        "pair_delta": round(median["pair"] - median["bare"], 3),
        "ratio": round(statistics.median(ratios), 3),
        "spread": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def in_process(sizes: tuple[int, ...], number: int, rounds: int) -> list[dict[str, Any]]:
    """Per-request microseconds with ``n`` sessions cycling, for each ``n``: a new verifier per
    size (its cache starts empty), warmed up by one full cycle (every cookie seen once)."""
    rows = []
    for n in sizes:
        made = cookies(n)
        check(made)
        cycles = {"bare": Cycle(apps.starlette_hello(), made["bare"]),
                  "ours": Cycle(apps.asgi_verifier(apps.starlette_hello()), made["ours"]),
                  "pair": Cycle(starlette_pair(), made["pair"])}
        times: dict[str, list[float]] = {app: [] for app in APPS}

        async def measure(cycles: dict[str, Cycle] = cycles, times: dict[str, list[float]] = times,
                          n: int = n) -> None:
            for cycle in cycles.values():
                await cycle.run(max(n, 50))  # warm: every cookie once (the cache holds what fits)
            for r in range(rounds):
                for app in (APPS if r % 2 == 0 else APPS[::-1]):
                    times[app].append(await cycles[app].run(number))

        asyncio.run(measure())
        hits = n <= CACHE_SIZE
        rows.append({"sessions": n, "cached": hits, **_summary(times)})
        del made, cycles
        gc.collect()
    return rows


# -- in process: bytes per cached session -----------------------------------------------------


def cached_bytes(n: int) -> dict[str, Any]:
    """What ``n`` cached sessions hold (tracemalloc, after a full cycle filled the cache), per
    session; the cookie header (the cache's key) is counted, as the cache keeps it."""
    headers = cookies(n)["ours"]
    verifier = apps.asgi_verifier(apps.starlette_hello())
    sessions = verifier.receiver.sessions
    view, now = verifier._view, time.time()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for header in headers:
        sessions.read(header.encode("latin-1"), now, view, False)  # as a server hands it: the key
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    held = len(sessions._caches[False])
    return {"sessions": n, "cached": held, "bytes_per_session": round(total / held),
            "cookie_bytes": round(statistics.mean(len(h) for h in headers)),
            "cache_size": CACHE_SIZE, "cache_bound_mib": round(total / held * CACHE_SIZE / 2**20, 1)}


# -- callgrind: instructions per request ------------------------------------------------------


def _child(app_name: str, cookie_file: str, warm: int, count: int) -> None:
    """Inside valgrind (instrumentation off): warm up, then wait for the parent to switch
    instrumentation on, run ``count`` requests, and wait for it to dump the counts."""
    headers = Path(cookie_file).read_text().splitlines()
    app = {"bare": apps.starlette_hello, "ours": lambda: apps.asgi_verifier(apps.starlette_hello()),
           "pair": starlette_pair}[app_name]()
    cycle = Cycle(app, headers)
    asyncio.run(cycle.run(warm))
    print("ready", flush=True)
    sys.stdin.readline()
    asyncio.run(cycle.run(count))
    print("done", flush=True)
    sys.stdin.readline()


def _callgrind(args: list[str], arm: Any) -> int:
    """Run ``args`` under callgrind with instrumentation off; ``arm(pid, step)`` is called when the
    process says "ready" (step 0: switch on and zero) and "done" (step 1: dump). The instructions
    between the two."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={out / 'cg.%p'}", *args]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, env=env, cwd=HERE.parent)
        assert child.stdin is not None and child.stdout is not None
        try:
            for step, word in enumerate(("ready", "done")):
                while child.stdout.readline().strip() != word:
                    if child.poll() is not None:
                        raise RuntimeError("the measured process ended early")
                arm(child.pid, step)
                if step == 0:
                    child.stdin.write("go\n")
                    child.stdin.flush()
            found = _dumped(out)
            child.stdin.write("bye\n")
            child.stdin.flush()
            child.wait(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
        return found


def _control(pid: int, step: int) -> None:
    flags = (["-i", "on"], ["-z"]) if step == 0 else (["-d"],)
    for flag in flags:
        subprocess.run(["callgrind_control", *flag, str(pid)], check=True, capture_output=True)


def _dumped(out: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in out.glob("cg.*"):
            found = re.search(r"^summary: (\d+)", path.read_text(), re.M) if path.stat().st_size else None
            if found:
                return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


def _warm(n: int) -> int:
    """Requests that bring ``n`` cycling sessions to the steady state: each cookie once when they
    fit the cache, else enough to fill it (every later request is then a miss)."""
    return n if n <= CACHE_SIZE else CACHE_SIZE + 1000


def instructions_in_process(sizes: tuple[int, ...], count: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            made = cookies(n)
            found = {}
            for app in APPS:
                path = Path(tmp) / f"{app}-{n}"
                path.write_text("\n".join(made[app]))
                args = [sys.executable, "-m", "benchmarks.sessions", "--child", app, str(path),
                        str(_warm(n)), str(count)]
                found[app] = _callgrind(args, _control) / count
            rows.append({"sessions": n, "where": "in process", **_instruction_row(found)})
    return rows


def _instruction_row(found: dict[str, float]) -> dict[str, Any]:
    ours_delta, pair_delta = found["ours"] - found["bare"], found["pair"] - found["bare"]
    return {**{app: round(value) for app, value in found.items()}, "ours_delta": round(ours_delta),
            "pair_delta": round(pair_delta), "ratio": round(ours_delta / pair_delta, 3)}


# -- inside uvicorn ---------------------------------------------------------------------------


def _send_cycling(port: int, headers: list[str], start: int, count: int) -> None:
    connection = HTTPConnection("127.0.0.1", port, timeout=300)
    for i in range(start, start + count):
        connection.request("GET", "/hello", headers={"Cookie": headers[i % len(headers)]})
        response = connection.getresponse()
        response.read()
        if response.status != 200 or "Max-Age=0" in (response.getheader("set-cookie") or ""):
            raise RuntimeError(f"request {i}: {response.status}, the session refused")
    connection.close()


@contextmanager
def _served(app: str, work: Path, wrapper: tuple[str, ...] = ()) -> Iterator[tuple[int, int]]:
    """``benchmarks.sessions:<app>`` under uvicorn (httptools), one worker pinned to the last core
    (as ``real_servers.serve`` starts its apps): its port and the pid that serves."""
    port = _free_port()
    command = [*_pin((os.cpu_count() or 1) - 1), *wrapper, sys.executable, "-m", "uvicorn",
               "--http", "httptools", f"benchmarks.sessions:{app}", "--port", str(port), "--no-access-log",
               "--log-level", "warning", "--lifespan", "off"]
    log = work / f"{app}.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=HERE.parent, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(process, port, log, app, 300, step=0.1)
        yield port, _tree(process.pid)[-1]
    finally:
        process.terminate()
        process.wait(timeout=60)


def instructions_in_uvicorn(sizes: tuple[int, ...], count: int) -> list[dict[str, Any]]:
    """The same, inside uvicorn (httptools), counted by callgrind, over one keep-alive connection."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in sizes:
            made = cookies(n)
            found = {}
            for app in APPS:
                wrapper = ("valgrind", "--tool=callgrind", "--instr-atstart=no",
                           f"--callgrind-out-file={work / f'cg-{app}-{n}.%p'}")
                with _served(app, work, wrapper) as (port, pid):
                    _send_cycling(port, made[app], 0, _warm(n))
                    _control(pid, 0)
                    _send_cycling(port, made[app], _warm(n), count)
                    before = set(work.glob("cg-*"))
                    _control(pid, 1)
                    found[app] = _newest_summary(work, before) / count
            rows.append({"sessions": n, "where": "uvicorn", **_instruction_row(found)})
    return rows


def _newest_summary(work: Path, before: set[Path]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in set(work.glob("cg-*")) - before:
            found = re.search(r"^summary: (\d+)", path.read_text(), re.M) if path.stat().st_size else None
            if found:
                path.unlink()
                return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


CYCLE_LUA = """
local cookies = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do cookies[#cookies + 1] = line end
  i = tonumber(args[2])  -- where the last run stopped: each run goes on through the cycle
end
request = function()
  i = i + 1
  return wrk.format("GET", "/hello", {["Cookie"] = cookies[(i - 1) % #cookies + 1]})
end
"""


def wall_clock_in_uvicorn(sizes: tuple[int, ...], seconds: float, rounds: int) -> list[dict[str, Any]]:
    """Under ``wrk`` (a script cycling the cookies): the server's CPU per request (user + system),
    each app in its own process, interleaved rounds; ratio of the layers' cost per round."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "cycle.lua").write_text(CYCLE_LUA)
        for n in sizes:
            made = cookies(n)
            for app in APPS:
                (work / f"{app}.cookies").write_text("\n".join(made[app]))
            per_app: dict[str, list[float]] = {app: [] for app in APPS}
            with _served("bare", work) as bare_at, _served("ours", work) as ours_at, \
                    _served("pair", work) as pair_at:
                served = {"bare": bare_at, "ours": ours_at, "pair": pair_at}
                for app, (port, _) in served.items():  # warm: every cookie once, where it fits
                    _send_cycling(port, made[app], 0, min(_warm(n), 5000))
                at = dict.fromkeys(APPS, min(_warm(n), 5000))
                for r in range(rounds):
                    for app in (APPS if r % 2 == 0 else APPS[::-1]):
                        port, pid = served[app]
                        before = cpu_seconds(pid)
                        run = wrk(f"http://127.0.0.1:{port}", seconds, script=work / "cycle.lua",
                                  script_args=(str(work / f"{app}.cookies"), str(at[app] % n)))
                        at[app] += int(run["requests"])
                        if run["errors"]:
                            raise RuntimeError(f"{app}: {run['errors']} errors under wrk")
                        per_app[app].append((cpu_seconds(pid) - before) / max(run["requests"], 1))
            rows.append({"sessions": n, "where": "uvicorn", "unit": "CPU us per request",
                         **_summary(per_app)})
    return rows


# -- the whole run ----------------------------------------------------------------------------


def run(smoke: bool = False, parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    if smoke:  # proves the benchmark runs: small counts, in process only
        return {"smoke": True, "in_process": in_process((1, 200, CACHE_SIZE + 200), 200, 2),
                "memory": cached_bytes(1000)}
    report: dict[str, Any] = {"smoke": False, "cache_size": CACHE_SIZE}
    if "in_process" in parts:
        report["in_process"] = in_process(SIZES, 2000, 9)
        report["memory"] = cached_bytes(CACHE_SIZE)
    if "instructions" in parts:
        if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
            raise SystemExit("instructions: needs valgrind (apt-get install valgrind)")
        report["instructions"] = instructions_in_process(SIZES, 1000) + instructions_in_uvicorn(SIZES, 500)
    if "uvicorn" in parts:
        if not shutil.which("wrk"):
            raise SystemExit("uvicorn: needs wrk (apt-get install wrk)")
        report["uvicorn"] = wall_clock_in_uvicorn(SIZES, 2, 5)
    return report


def show(report: dict[str, Any]) -> None:
    for section in ("in_process", "instructions", "uvicorn"):
        for row in report.get(section, []):
            print(section, json.dumps(row))
    if "memory" in report:
        print("memory", json.dumps(report["memory"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="small counts, in process only (CI)")
    parser.add_argument("--out", default=str(HERE / "sessions.json"))
    parser.add_argument("--part", action="append", choices=PARTS, help="only these parts (default: all)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        app, path, warm, count = args.child
        _child(app, path, int(warm), int(count))
        return 0
    report = run(args.smoke, tuple(args.part or PARTS))
    show(report)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
