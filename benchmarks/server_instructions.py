"""Instructions per request inside a real server, counted by callgrind: a figure load cannot move.

    python -m benchmarks.server_instructions [--requests 500] [--server uvicorn-httptools ...]

On a shared VM, ``wrk``'s requests/s swing by tens of percent from run to run (see the A/A control
in ``real_servers.py``), far more than the one per cent this library's overhead is judged by. So
each app also runs under ``valgrind --tool=callgrind`` in the same servers (uvicorn with httptools
or h11; gunicorn's worker), is warmed up, its counters zeroed, and then sent a fixed number of
requests over one keep-alive connection; the dump gives the instructions the whole server process
spent per request (HTTP parsing, the framework, the app, our middleware). Needs valgrind (Debian
package) and a minute or two per server.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from . import apps
from .real_servers import QUERY, SERVERS, _tree, serve

HERE = Path(__file__).resolve().parent

# app -> the measurements made on it: (case, path, headers, fresh tokens?)
PLAN: dict[str, list[tuple[str, str, bool, bool]]] = {
    "bare": [("pass-through", "/hello", False, False), ("authenticated", "/hello", True, False)],
    "empty": [("pass-through", "/hello", False, False)],
    "empty2": [("pass-through", "/hello", False, False)],
    "ours": [("pass-through", "/hello", False, False), ("authenticated", "/hello", True, False),
             ("issue", f"/sso/frill?{QUERY}", False, False), ("verify", "/sso", False, True)],
    "snippet": [("issue", f"/sso/frill?{QUERY}", False, False)],
    "same": [("issue", f"/sso/frill?{QUERY}", False, False)],
    "hand": [("verify", "/sso", False, True)],
}
BASELINES = {"pass-through": "bare", "authenticated": "bare", "issue": "same", "verify": "hand"}


@contextmanager
def counted(server: str, app: str, work: Path) -> Iterator[tuple[int, int]]:
    """``app`` under ``server`` inside callgrind: ``(port, pid of the process serving)``."""
    valgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={work / f'cg-{server}-{app}.%p'}",
                "--trace-children=yes")
    with serve(server, app, work / f"{server}-{app}.log", wrapper=valgrind, threads=1, startup=300) as (
            url, pid):
        port = int(url.rsplit(":", 1)[1])
        _send(port, "/hello", 1, {}, None)  # answered: gunicorn's worker exists (it binds first)
        yield port, _tree(pid)[-1]  # gunicorn: its worker; uvicorn: the process itself


def _send(port: int, path: str, count: int, headers: dict[str, str], tokens: Iterator[str] | None) -> None:
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(count):
        target = f"{path}?token={next(tokens)}" if tokens is not None else path
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status >= 400:
            raise RuntimeError(f"{target[:40]}: {response.status}")
    connection.close()


def per_request(port: int, pid: int, work: Path, path: str, count: int, headers: dict[str, str],
                tokens: Iterator[str] | None) -> float:
    _send(port, path, 50, headers, tokens)  # warm this path's caches
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    _send(port, path, count, headers, tokens)
    before = set(work.glob("cg-*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while True:
        new = [p for p in set(work.glob("cg-*")) - before if p.stat().st_size]
        summary = [re.search(r"^summary: (\d+)", p.read_text(), re.M) for p in new]
        if any(summary):
            for p in new:
                p.unlink()
            return int(next(s for s in summary if s).group(1)) / count
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind wrote no dump")
        time.sleep(0.2)


def measure(server: str, count: int) -> list[dict[str, Any]]:
    cookie = {"Cookie": apps.session_cookie()}
    found: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for app, plan in PLAN.items():
            wanted = [p for p in plan if not (server.startswith("gunicorn") and p[0] == "verify")]
            if not wanted:
                continue
            with counted(server, app, work) as (port, pid):
                for case, path, with_cookie, fresh in wanted:
                    tokens = apps.fresh_tokens(count + 60, f"{server}-{app}") if fresh else None
                    found[case, app] = per_request(port, pid, work, path, count,
                                                   cookie if with_cookie else {}, tokens)
    rows = []
    for (case, app), instructions in found.items():
        base = found.get((case, BASELINES[case]))
        rows.append({"server": server, "case": case, "app": app, "instructions": round(instructions),
                     "ratio": round(instructions / base, 4) if base else None,
                     "delta": round(instructions - base) if base else None})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--server", action="append", choices=sorted(SERVERS))
    parser.add_argument("--out", default=str(HERE / "server_instructions.json"))
    args = parser.parse_args()
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    rows = [row for server in args.server or list(SERVERS) for row in measure(server, args.requests)]
    for row in rows:
        print(f"{row['server']:<18} {row['case']:<14} {row['app']:<8} {row['instructions']:>9} instructions"
              f"/request  ratio {row['ratio']}  delta {row['delta']}")
    Path(args.out).write_text(json.dumps({"requests": args.requests, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
