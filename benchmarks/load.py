"""Real server: uvicorn serving issuer and verifier; many concurrent clients doing full round trips.

A round trip is what a browser does: GET /sso/frill (303 to the board with a token), GET that URL
(the verifier checks and consumes the token, 303 with a session cookie), GET /board/ with the
cookie (200, signed in). Beside it, the same number of requests to a hello-world route.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _round_trips(base: str, clients: int, trips: int, errors: list[str]) -> list[float]:
    latencies: list[float] = []

    async def client(n: int, count: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(count):
                try:
                    t0 = time.perf_counter()
                    r1 = await http.get("/sso/frill", headers={"X-User": f"user{n}"})
                    t1 = time.perf_counter()
                    r2 = await http.get(r1.headers["location"])
                    t2 = time.perf_counter()
                    r3 = await http.get("/board/")
                    t3 = time.perf_counter()
                    if (r1.status_code, r2.status_code, r3.status_code) != (303, 303, 200) or (
                        r3.text != f"board for user{n}"
                    ):
                        errors.append(f"{r1.status_code} {r2.status_code} {r3.status_code}")
                    latencies.extend((t1 - t0, t2 - t1, t3 - t2))
                except (httpx.HTTPError, KeyError) as e:
                    errors.append(type(e).__name__)

    per = [trips // clients + (1 if i < trips % clients else 0) for i in range(clients)]
    await asyncio.gather(*(client(i, c) for i, c in enumerate(per)))
    return latencies


async def _hello(base: str, clients: int, requests: int, errors: list[str]) -> list[float]:
    latencies: list[float] = []

    async def client(count: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(count):
                t0 = time.perf_counter()
                r = await http.get("/hello")
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(str(r.status_code))

    per = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    await asyncio.gather(*(client(c) for c in per))
    return latencies


def _row(name: str, latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    return {
        "name": name,
        "requests": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


def run(clients: int, round_trips: int) -> dict[str, Any]:
    port = _free_port()
    root = Path(__file__).resolve().parent.parent  # uvicorn imports ``benchmarks.load_app`` from here
    env = {**os.environ, "SSO_BENCH_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks.load_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log", "--lifespan", "off",
         "--limit-concurrency", "1000", "--backlog", "2048"],
        cwd=root, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/hello")
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.05)
        trip_errors: list[str] = []
        start = time.perf_counter()
        trip_latencies = asyncio.run(_round_trips(base, clients, round_trips, trip_errors))
        trip_seconds = time.perf_counter() - start
        hello_errors: list[str] = []
        start = time.perf_counter()
        hello_latencies = asyncio.run(_hello(base, clients, len(trip_latencies), hello_errors))
        hello_seconds = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=20)
    rows = [
        _row("hello-world route", hello_latencies, hello_seconds, len(hello_errors)),
        _row("SSO round-trip requests", trip_latencies, trip_seconds, len(trip_errors)),
    ]
    rows[1]["round_trips_per_second"] = round(round_trips / trip_seconds, 1)
    return {
        "clients": clients,
        "round_trips": round_trips,
        "rows": rows,
        "errors": len(trip_errors) + len(hello_errors),
        "error_samples": (trip_errors + hello_errors)[:5],
    }
