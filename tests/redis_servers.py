"""Real redis-servers on loopback for the tests: one, paused, killed, replicated, sentinelled, clustered.

Each server runs in its own temporary directory on a free TCP port, without
persistence unless asked, and is stopped (and resumed first, if paused) when
its test ends. ``SSO_REQUIRE_REDIS`` (set by CI) turns "redis-server is not
installed" from a skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest


def binary(name: str = "redis-server") -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("SSO_REQUIRE_REDIS"):
            pytest.fail(f"{name} is not installed (CI installs it with apt-get)")
        pytest.skip(f"{name} is not installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Poll ``condition`` until it holds (a real condition, not a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


class RedisServer:
    """One redis-server process; ``pause``/``resume`` with SIGSTOP/SIGCONT, ``kill``, ``start`` again."""

    def __init__(self, directory: Path, *args: str, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        import redis

        try:
            with redis.Redis(port=self.port, socket_timeout=0.5) as probe:
                return bool(probe.ping())
        except redis.RedisError:
            return False

    def client(self, **options: Any) -> Any:
        import redis

        return redis.Redis(port=self.port, **options)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to clients."""
        self.stop(kill=True)

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.paused:
            self.resume()
        self.proc.kill() if kill else self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@contextmanager
def redis_server(directory: Path, *args: str) -> Iterator[RedisServer]:
    server = RedisServer(directory, *args).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def replicated(directory: Path) -> Iterator[tuple[RedisServer, RedisServer, RedisServer]]:
    """A primary, one replica and one sentinel watching them (quick failover settings)."""
    with ExitStack() as stack:
        primary = stack.enter_context(redis_server(directory / "primary"))
        replica = stack.enter_context(
            redis_server(directory / "replica", "--replicaof", "127.0.0.1", str(primary.port)))
        wait_until(lambda: replica.client().info("replication").get("master_link_status") == "up",
                   "the replica to sync")
        conf = directory / "sentinel.conf"
        conf.write_text(
            f"port 0\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor main 127.0.0.1 {primary.port} 1\n"
            "sentinel down-after-milliseconds main 500\n"
            "sentinel failover-timeout main 5000\n"
        )
        sentinel = RedisServer(directory / "sentinel")
        sentinel.args = ()
        sentinel.proc = subprocess.Popen(
            [binary(), str(conf), "--sentinel", "--port", str(sentinel.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        stack.callback(sentinel.stop)
        wait_until(sentinel.answers, "the sentinel")
        wait_until(lambda: bool(sentinel.client().sentinel_slaves("main")), "the sentinel to see the replica")
        yield primary, replica, sentinel


@contextmanager
def cluster(directory: Path, masters: int = 3) -> Iterator[list[RedisServer]]:
    """A Redis Cluster of ``masters`` masters (no replicas), slots spread by redis-cli."""
    with ExitStack() as stack:
        nodes = [
            stack.enter_context(redis_server(
                directory / f"node{i}", "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                "--cluster-config-file", str(directory / f"node{i}" / "nodes.conf")))
            for i in range(masters)
        ]
        subprocess.run(
            [binary("redis-cli"), "--cluster", "create",
             *(f"127.0.0.1:{node.port}" for node in nodes), "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
        wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in nodes),
                   "the cluster to settle")
        yield nodes
