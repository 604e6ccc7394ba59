"""Real servers under ``wrk``: our middleware against the bare app, an empty layer and an A/A control.

    python -m benchmarks.real_servers [--seconds 3] [--rounds 3] [--smoke]

Each app runs in its own server process (one worker) pinned to one core, with ``wrk`` (Debian
package) pinned to the other, so the client never competes with the server it measures. The
servers are uvicorn with httptools, uvicorn with h11 (ASGI) and gunicorn with threads (WSGI, the
Flask app). Every case is measured in rounds, its subjects interleaved (ABBA order), and each ratio
is the median of the per-round ratios against a baseline measured in the same round:

- pass-through: ``/hello`` through issuer and verifier, against the bare app; beside it one and
  two empty pure-ASGI (or WSGI) layers and an A/A control (the bare app again, in another
  process), whose distance from 1.00 is the noise floor of the run;
- authenticated: ``/hello`` with a valid session cookie, against the bare app sent the same cookie;
- issue: ``/sso/frill?redirect=...`` against a route doing the same work (the same claims with a
  ``jti``, the four security headers, the redirect), the vendors' bare ``jwt.encode`` + redirect
  route beside it (Starlette on uvicorn, Flask on gunicorn);
- verify: ``/sso?token=<fresh>`` (a wrk Lua script hands every request its own token) against
  ``jwt.decode`` + Starlette's ``SessionMiddleware``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import apps

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # servers start here, on ``benchmarks.wrk_apps:<app>``

QUERY = "redirect=https%3A%2F%2Ffeedback.acme.com%2Fb%2Froadmap"
TOKENS_LUA = """
local tokens = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end
request = function()
  i = i + 1
  return wrk.format("GET", "/sso?token=" .. tokens[(i - 1) % #tokens + 1])
end
"""
SERVERS = {
    "uvicorn-httptools": ["uvicorn", "--http", "httptools"],
    "uvicorn-h11": ["uvicorn", "--http", "h11"],
    "gunicorn-gthread": ["gunicorn"],
}


@dataclass
class Case:
    """What is measured: subjects (app, path, headers) and the baseline each is divided by."""

    name: str
    path: str
    subjects: dict[str, str]  # label -> app name in wrk_apps
    baseline: str  # label of the baseline subject
    headers: tuple[str, ...] = ()
    tokens: bool = False
    results: dict[str, list[dict[str, float]]] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's worker is the master's child)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(child) for child in children)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the server process tree has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def wait_for_port(process: subprocess.Popen[Any], port: int, log: Path, what: str, timeout: float,
                  step: float = 0.05) -> None:
    """Return once ``port`` accepts a connection; raise with ``log``'s tail if ``process`` ends or
    ``timeout`` seconds pass first (a server starting: polled, there is nothing to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}") from None
            time.sleep(step)


@contextmanager
def serve(server: str, app: str, log: Path, *, wrapper: tuple[str, ...] = (), threads: int = 8,
          startup: float = 30) -> Iterator[tuple[str, int]]:
    """``app`` (a name in wrk_apps) under ``server``, one worker, pinned to the last core (and run
    inside ``wrapper``, e.g. valgrind): its URL and process id."""
    port = _free_port()
    core = (os.cpu_count() or 1) - 1
    if server.startswith("uvicorn"):
        command = [sys.executable, "-m", *SERVERS[server], f"benchmarks.wrk_apps:{app}", "--port", str(port),
                   "--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    else:
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", str(threads),
                   "-b", f"127.0.0.1:{port}", "--log-level", "warning", f"benchmarks.wrk_apps:flask_{app}"]
    with log.open("w") as out:
        process = subprocess.Popen([*_pin(core), *wrapper, *command], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for_port(process, port, log, f"{server} {app}", startup)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def wrk(url: str, seconds: float, headers: tuple[str, ...] = (), script: Path | None = None,
        script_args: tuple[str, ...] = ()) -> dict[str, float]:
    """One wrk run (one thread, 32 connections, pinned to core 0): requests/s, p50/p99 (ms), errors."""
    command = [*_pin(0), "wrk", "-t1", "-c32", f"-d{seconds:g}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    latency = {q: _ms(v) for q, v in re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "requests": int(done.group(1)) if done else 0,
            "p50_ms": latency.get("50", 0.0),
            "p99_ms": latency.get("99", 0.0),
            "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)}


def _ms(value: str) -> float:
    number, unit = float(re.match(r"[\d.]+", value).group()), re.sub(r"[\d.]+", "", value)  # type: ignore[union-attr]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}.get(unit, 1.0)


def cases(wsgi: bool) -> list[Case]:
    cookie = f"Cookie: {apps.session_cookie()}"
    found = [
        Case("pass-through", "/hello", {"bare": "bare", "A/A control": "bare_again", "empty layer": "empty",
                                        "two empty layers": "empty2", "ours": "ours"}, "bare"),
        Case("authenticated", "/hello", {"bare": "bare", "ours": "ours"}, "bare", headers=(cookie,)),
        Case("issue", f"/sso/frill?{QUERY}", {"same-work route": "same", "jwt.encode route": "snippet",
                                              "ours": "ours"}, "same-work route"),
    ]
    if not wsgi:
        found.append(Case("verify", "/sso", {"jwt.decode route": "hand", "ours": "ours"}, "jwt.decode route",
                          tokens=True))
    return found


def measure(server: str, seconds: float, rounds: int, work: Path) -> list[dict[str, Any]]:
    """Every case on ``server``: each subject's runs, and its median ratio to the baseline."""
    todo = cases(server.startswith("gunicorn"))
    names = sorted({app for case in todo for app in case.subjects.values()})
    (work / "tokens.lua").write_text(TOKENS_LUA)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        started = {name: stack.enter_context(serve(server, name, work / f"{server}-{name}.log"))
                   for name in names}
        for url, _ in started.values():  # warm up: imports, first-request caches
            wrk(url + "/hello", 1)
        for case in todo:
            for r in range(rounds):
                _round(case, r, server, seconds, started, work)
            rows += [_row(server, case, label) for label in case.subjects]
    return rows


def _round(case: Case, r: int, server: str, seconds: float, started: dict[str, tuple[str, int]],
           work: Path) -> None:
    """One round of ``case``: each subject once, in alternating order (drift hits all alike)."""
    labels = list(case.subjects)
    tokens: tuple[str, ...] = ()
    if case.tokens:  # every request its own token; each round's file is new to every server
        path = work / f"tokens-{case.name}-{r}"
        path.write_text("\n".join(apps.fresh_tokens(int(20000 * seconds) + 1000, f"{server}-{r}")))
        tokens = (str(path),)
    for label in labels if r % 2 == 0 else labels[::-1]:
        url, pid = started[case.subjects[label]]
        before = cpu_seconds(pid)
        script = work / "tokens.lua" if case.tokens else None
        run = wrk(url + ("" if case.tokens else case.path), seconds, case.headers, script, tokens)
        # the server's own CPU per request: a second view of the cost beside requests/s
        run["cpu_us"] = (cpu_seconds(pid) - before) / max(run["requests"], 1) * 1e6
        case.results.setdefault(label, []).append(run)


def _median_and_spread(values: list[float]) -> tuple[float | None, list[float] | None]:
    if not values:
        return None, None
    return round(statistics.median(values), 4), [round(min(values), 4), round(max(values), 4)]


def _row(server: str, case: Case, label: str) -> dict[str, Any]:
    """``label``'s runs in ``case``: medians, and its ratios to the baseline with their spread."""
    runs, base = case.results[label], case.results[case.baseline]
    ratio, spread = _median_and_spread([s["rps"] / b["rps"] for s, b in zip(runs, base) if b["rps"]])
    cpu_ratio, cpu_spread = _median_and_spread(
        [s["cpu_us"] / b["cpu_us"] for s, b in zip(runs, base) if b["cpu_us"]])
    return {
        "server": server, "case": case.name, "subject": label,
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 3),
        "ratio": ratio, "spread": spread,
        "cpu_us": round(statistics.median(r["cpu_us"] for r in runs), 2),
        "cpu_ratio": cpu_ratio, "cpu_spread": cpu_spread,
        "errors": sum(int(r["errors"]) for r in runs),
    }


def run(seconds: float, rounds: int, servers: list[str]) -> dict[str, Any]:
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for server in servers for row in measure(server, seconds, rounds, Path(tmp))]
    return {"seconds": seconds, "rounds": rounds, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", action="append", choices=sorted(SERVERS))
    parser.add_argument("--smoke", action="store_true", help="one short round on uvicorn-httptools")
    parser.add_argument("--out", default=str(HERE / "real_servers.json"))
    args = parser.parse_args()
    if args.smoke:
        report = run(1, 1, ["uvicorn-httptools"])
    else:
        report = run(args.seconds, args.rounds, args.server or list(SERVERS))
    for row in report["rows"]:
        print(f"{row['server']:<18} {row['case']:<14} {row['subject']:<17} {row['rps']:>9.1f}/s  "
              f"p50 {row['p50_ms']:>7.3f} ms  p99 {row['p99_ms']:>7.3f} ms  ratio {row['ratio']} "
              f"{row['spread']}  cpu {row['cpu_us']:>6.1f} us/req, ratio {row['cpu_ratio']} "
              f"{row['cpu_spread']}  errors {row['errors']}")
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 1 if any(row["errors"] for row in report["rows"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
