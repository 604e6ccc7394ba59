"""Real servers on 127.0.0.1 with an ephemeral port, for live tests (and the benchmarks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn; yields its base URL; stops it afterwards."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def werkzeug_server(app: Any) -> Iterator[str]:
    """Serve a WSGI app with werkzeug's threaded server; yields its base URL."""
    from sso_middleware.serving import local_server

    server = local_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serve(skin_name: str, app: Any) -> Iterator[str]:
    with (werkzeug_server if skin_name == "wsgi" else uvicorn_server)(app) as url:
        yield url


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def command_server(argv: list[str], cwd: Any, env: dict[str, str] | None = None,
                   timeout: float = 60) -> Iterator[str]:
    """Run a server as its users do (``gunicorn app:app -b {host}:{port}``): ``{port}`` in
    ``argv`` is replaced by a free port; yields the base URL once it answers; stops it after."""
    import os
    import socket
    import subprocess
    import sys

    port = free_port()
    command = [part.replace("{port}", str(port)) for part in argv]
    log = open(os.path.join(cwd, "server.log"), "w+b")  # read back on failure
    process = subprocess.Popen([sys.executable, "-m", *command], cwd=cwd, stdout=log, stderr=log,
                               env={**os.environ, **(env or {}), "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{command[0]} did not start:\n{log.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
